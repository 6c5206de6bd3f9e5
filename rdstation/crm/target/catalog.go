package target

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/mapping"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// catalog keeps what the CRM's catalogue holds — each entity's custom
// fields, the pipelines and their stages, the lost reasons, the users — and
// the account the token reaches, in the checkpoint store for ttl
// (crm.catalog_ttl), so a process that finds nothing to sync asks the CRM
// nothing. A kept copy is read again when it is older than ttl, when it
// was read with other credentials, on Refresh (erpbridge check; a mapping
// that names what the copy lacks), and, for custom fields, when the CRM
// refuses a write for a custom field. Without a store (a dry run, tests)
// everything is read from the CRM.
type catalog struct {
	st   *store.Store // nil: nothing is kept
	ttl  time.Duration
	cred string // a hash of the base URL and token: another account's copy is not this one's
	clk  clock.Clock
	log  *zap.Logger

	mu     sync.Mutex
	served bool // something was served from a kept copy since the last Refresh
}

// catalogKeys are the store meta keys of the kept copies; custom fields
// have one per entity.
const (
	catalogPrefix      = "crm.catalog."
	catalogPipelines   = catalogPrefix + "pipelines"
	catalogLostReasons = catalogPrefix + "lost_reasons"
	catalogUsers       = catalogPrefix + "users"
	catalogAccount     = catalogPrefix + "account"
	catalogExists      = catalogPrefix + "exists"
)

func catalogFields(entity string) string { return catalogPrefix + "custom_fields." + entity }

// catalogEntities are the entities whose custom fields are kept.
var catalogEntities = []string{mapping.EntityOrganization, mapping.EntityContact, mapping.EntityProduct, mapping.EntityDeal}

// kept is one kept copy as the store holds it.
type kept struct {
	Cred string          `json:"cred"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data"`
}

// cached returns the copy of key kept in the store when it is fresh, else
// what fetch reads from the CRM, kept for the next process.
func cached[T any](ctx context.Context, c *catalog, key string, fetch func(context.Context) (T, error)) (T, error) {
	if v, ok := load[T](ctx, c, key); ok {
		return v, nil
	}
	v, err := fetch(ctx)
	if err != nil {
		return v, err
	}
	c.keep(ctx, key, v)
	return v, nil
}

// load returns the fresh copy of key; false when there is none.
func load[T any](ctx context.Context, c *catalog, key string) (T, bool) {
	var v T
	if c == nil || c.st == nil || c.ttl <= 0 {
		return v, false
	}
	text, ok, err := c.st.Meta(ctx, key)
	if err != nil || !ok {
		return v, false
	}
	var k kept
	if json.Unmarshal([]byte(text), &k) != nil || k.Cred != c.cred {
		return v, false
	}
	if age := c.clk.Now().Sub(k.At); age < 0 || age >= c.ttl {
		return v, false
	}
	if json.Unmarshal(k.Data, &v) != nil {
		return v, false
	}
	c.mu.Lock()
	c.served = true
	c.mu.Unlock()
	return v, true
}

// keep stores v as the copy of key. A copy that cannot be kept is only a
// cost (the next process reads the CRM), so it is logged, not returned.
func (c *catalog) keep(ctx context.Context, key string, v any) {
	if c == nil || c.st == nil || c.ttl <= 0 {
		return
	}
	data, err := json.Marshal(v)
	if err == nil {
		var text []byte
		text, err = json.Marshal(kept{Cred: c.cred, At: c.clk.Now().UTC(), Data: data})
		if err == nil {
			err = c.st.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error { return tx.SetMeta(key, string(text)) })
		}
	}
	if err != nil && c.log != nil {
		c.log.Warn("crm: keeping the catalogue in the checkpoint store", zap.String("key", key), zap.Error(err))
	}
}

// forget drops the kept copies of keys (every copy when none is given).
func (c *catalog) forget(ctx context.Context, keys ...string) error {
	if c == nil || c.st == nil {
		return nil
	}
	if len(keys) == 0 {
		keys = []string{catalogPipelines, catalogLostReasons, catalogUsers, catalogAccount, catalogExists}
		for _, e := range catalogEntities {
			keys = append(keys, catalogFields(e))
		}
	}
	return c.st.Update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		for _, k := range keys {
			if err := tx.DeleteMeta(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// servedKept reports whether anything was served from a kept copy since
// the last call, and starts over.
func (c *catalog) servedKept() bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.served
	c.served = false
	return s
}

// keptField is a custom field as the catalogue keeps it.
type keptField struct {
	ID      string   `json:"id"`
	Label   string   `json:"label"`
	Type    string   `json:"type"`
	Options []string `json:"options,omitempty"`
}

// keptUser is a CRM user as the catalogue keeps it.
type keptUser struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// Refresh implements component.CatalogCacher: every kept copy is dropped,
// in the store and in this process, so the next reads ask the CRM. It
// reports whether anything had been served from a kept copy (a miss can
// then be a stale copy).
func (s *System) Refresh(ctx context.Context) (bool, error) {
	served := s.cat.servedKept()
	s.set.mu.Lock()
	s.set.schemas = map[string]mapping.Schema{}
	s.set.mu.Unlock()
	s.users.reset()
	return served, s.cat.forget(ctx)
}

// refused is told of every write the CRM refuses (400, 422): one that
// names a custom field means the account's fields changed since they were
// read, so the kept copy is dropped and the next process reads them again.
func (s *System) refused(e *crm.Error) {
	field := e.Status == 400 && strings.Contains(strings.ToLower(e.Message), "custom field")
	if !field && len(e.Fields) > 0 {
		s.set.mu.Lock()
		for _, sc := range s.set.schemas {
			for label := range sc.Custom {
				if _, ok := e.Fields[label]; ok {
					field = true
				}
			}
		}
		s.set.mu.Unlock()
	}
	if !field {
		return
	}
	keys := make([]string, len(catalogEntities))
	for i, ent := range catalogEntities {
		keys[i] = catalogFields(ent)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.cat.forget(ctx, keys...); err != nil && s.cat.log != nil {
		s.cat.log.Warn("crm: forgetting the kept custom fields", zap.Error(err))
	}
}

// cachedAccount is the account probe with what it found kept: the account
// the credentials reach, and that a record the store synced was found
// there. Within the ttl that check stands: the records synced since went
// to the same CRM with the same credentials.
type cachedAccount struct {
	probe Account
	cat   *catalog
}

// Account implements bridge.AccountProbe.
func (a cachedAccount) Account(ctx context.Context) (string, error) {
	return cached(ctx, a.cat, catalogAccount, a.probe.Account)
}

// Exists implements bridge.AccountProbe: true without asking while a
// passed check is kept.
func (a cachedAccount) Exists(ctx context.Context, entity, id string) (bool, error) {
	if _, ok := load[time.Time](ctx, a.cat, catalogExists); ok {
		return true, nil
	}
	return a.probe.Exists(ctx, entity, id)
}

// Passed implements bridge.AccountKeeper: the check passed, kept for the
// ttl.
func (a cachedAccount) Passed(ctx context.Context) {
	a.cat.keep(ctx, catalogExists, a.cat.clk.Now().UTC())
}

var _ bridge.AccountKeeper = cachedAccount{}
