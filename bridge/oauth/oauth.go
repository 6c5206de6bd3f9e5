// Package oauth keeps an OAuth2 grant (access and refresh token) of a
// target system in the checkpoint store and hands out a valid access token,
// refreshing it before it expires or when the server says it has. It is
// vendor-neutral: the target system's client gives it the call that
// refreshes (RD Station Marketing today, RD Station CRM v2 next).
//
// The refresh token is the one secret that cannot be got back without a
// person (authorizing again in a browser), and a server may rotate it: each
// refresh returns a new one and retires the old. So the rule is:
//
//   - a grant the server returns is committed to the store, in the
//     transaction that read the grant it replaces, before the new access
//     token is used or handed out: a crash after that commit restarts with
//     the new grant;
//   - the read, the refresh call and the commit happen in one store write
//     transaction, so two processes of one data_dir (the service and an
//     `erpbridge check`) never refresh with the same refresh token: the
//     second waits, reads the grant the first committed and uses it;
//   - a crash before the commit (the process killed in the instant between
//     the server's answer and the commit, or an answer lost on the way)
//     leaves the store with the grant that was sent. Where the server does
//     not rotate refresh tokens that grant still works; where it does, the
//     server refuses it and the bridge stops with the reason and what to do
//     (authorize again), never looping and never sending with a token it
//     knows is stale.
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/store"
)

// Token is a grant as the store keeps it.
type Token struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	// Expiry is when the access token stops working (zero: unknown, it is
	// used until the server says it expired).
	Expiry time.Time `json:"expiry,omitzero"`
	// ObtainedAt is when the server issued it.
	ObtainedAt time.Time `json:"obtained_at,omitzero"`
}

// Refresher asks the server for a new access token with refreshToken. A
// returned Token without RefreshToken keeps the one sent. An error that
// says the server refused the refresh token must match ErrRefused
// (errors.Is): the grant is gone and a person must authorize again.
type Refresher func(ctx context.Context, refreshToken string) (Token, error)

var (
	// ErrNotAuthorized: the store holds no grant for the system.
	ErrNotAuthorized = errors.New("not authorized")
	// ErrRefused: the server refused the stored refresh token.
	ErrRefused = errors.New("refresh token refused")
)

// DefaultMargin is how long before its expiry an access token is refreshed.
const DefaultMargin = 10 * time.Minute

// Options tune a Source.
type Options struct {
	// Clock tells the time (default clock.Real{}).
	Clock clock.Clock
	// Margin refreshes an access token this long before it expires
	// (default DefaultMargin).
	Margin time.Duration
	// Hint says what to do when there is no grant or the server refused it
	// ("run `erpbridge marketing authorize`"). Never a secret.
	Hint string
	// AfterRefresh, when set, runs after the server answered a refresh and
	// before the new grant is committed; AfterSave after the commit and
	// before the new access token is handed out. Crash tests kill the
	// process there.
	AfterRefresh, AfterSave func()
}

// Source hands out the access token of one system's grant. It is safe for
// concurrent use.
type Source struct {
	st      *store.Store
	name    string
	refresh Refresher
	o       Options

	mu  sync.Mutex
	cur *Token // the grant as last read or committed; nil: not read yet
}

// New returns the source of the grant stored under name ("marketing").
func New(st *store.Store, name string, refresh Refresher, o Options) *Source {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Margin <= 0 {
		o.Margin = DefaultMargin
	}
	return &Source{st: st, name: name, refresh: refresh, o: o}
}

// metaKey is the store meta key of a system's grant.
func metaKey(name string) string { return "oauth:" + name }

// Load reads the grant stored under name.
func Load(ctx context.Context, st *store.Store, name string) (Token, bool, error) {
	v, ok, err := st.Meta(ctx, metaKey(name))
	if err != nil || !ok {
		return Token{}, false, err
	}
	return decode(name, v)
}

func decode(name, v string) (Token, bool, error) {
	var t Token
	if err := json.Unmarshal([]byte(v), &t); err != nil {
		return Token{}, false, fmt.Errorf("decoding the stored %s grant: %w", name, err)
	}
	return t, t.RefreshToken != "" || t.AccessToken != "", nil
}

// Save commits a grant (one a person just authorized) under name,
// replacing any other.
func Save(ctx context.Context, st *store.Store, name string, t Token) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encoding the %s grant: %w", name, err)
	}
	if err := st.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		return tx.SetMeta(metaKey(name), string(b))
	}); err != nil {
		return fmt.Errorf("saving the %s grant: %w", name, err)
	}
	return nil
}

// Forget removes the grant stored under name.
func Forget(ctx context.Context, st *store.Store, name string) error {
	return st.Update(ctx, func(tx *store.Tx) error { return tx.DeleteMeta(metaKey(name)) })
}

// Token returns an access token that is not about to expire, refreshing
// the grant first when it is.
func (s *Source) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		t, ok, err := Load(ctx, s.st, s.name)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", s.notAuthorized()
		}
		s.cur = &t
	}
	if s.fresh(*s.cur) {
		return s.cur.AccessToken, nil
	}
	return s.refreshLocked(ctx, s.cur.AccessToken)
}

// Expired is what a caller says when the server answered that the access
// token stale has expired: the grant is refreshed unless another caller
// already did, and the access token to retry with is returned.
func (s *Source) Expired(ctx context.Context, stale string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && s.cur.AccessToken != stale && s.cur.AccessToken != "" {
		return s.cur.AccessToken, nil
	}
	return s.refreshLocked(ctx, stale)
}

// fresh reports whether t's access token may be used now.
func (s *Source) fresh(t Token) bool {
	return t.AccessToken != "" && (t.Expiry.IsZero() || s.o.Clock.Now().Add(s.o.Margin).Before(t.Expiry))
}

// refreshLocked reads the stored grant, refreshes it unless another
// process already replaced the access token stale, and commits the new
// grant: all in one store write transaction (see the package doc).
func (s *Source) refreshLocked(ctx context.Context, stale string) (string, error) {
	var out Token
	err := s.st.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		v, ok, err := tx.Meta(metaKey(s.name))
		if err != nil {
			return err
		}
		if !ok {
			return s.notAuthorized()
		}
		stored, ok, err := decode(s.name, v)
		if err != nil {
			return err
		}
		if !ok || stored.RefreshToken == "" {
			return s.notAuthorized()
		}
		if stored.AccessToken != stale && s.fresh(stored) {
			out = stored // another process refreshed meanwhile
			return nil
		}
		t, err := s.refresh(ctx, stored.RefreshToken)
		if err != nil {
			if errors.Is(err, ErrRefused) && !strings.Contains(err.Error(), s.o.Hint) {
				return fmt.Errorf("refreshing the %s access token: %w; %s", s.name, err, s.o.Hint)
			}
			return fmt.Errorf("refreshing the %s access token: %w", s.name, err)
		}
		if t.RefreshToken == "" {
			t.RefreshToken = stored.RefreshToken
		}
		if t.ObtainedAt.IsZero() {
			t.ObtainedAt = s.o.Clock.Now()
		}
		if s.o.AfterRefresh != nil {
			s.o.AfterRefresh()
		}
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("encoding the %s grant: %w", s.name, err)
		}
		if err := tx.SetMeta(metaKey(s.name), string(b)); err != nil {
			return err
		}
		out = t
		return nil
	})
	if err != nil {
		return "", err
	}
	s.cur = &out
	if s.o.AfterSave != nil {
		s.o.AfterSave()
	}
	return out.AccessToken, nil
}

func (s *Source) notAuthorized() error {
	return fmt.Errorf("%w: the checkpoint store %s holds no %s grant; %s", ErrNotAuthorized, s.st.Path(), s.name, s.o.Hint)
}
