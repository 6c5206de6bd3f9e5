package target

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// userDirectory maps CRM users to their e-mails and back (the ERP knows
// sellers by e-mail), listing the users at most every ttl. After a failed
// listing it keeps the last good one and tries again a minute later, not
// on every record.
type userDirectory struct {
	c   *crm.Client
	ttl time.Duration

	mu      sync.Mutex
	loaded  time.Time
	ids     map[string]string // lower-case e-mail → user id
	emails  map[string]string // user id → e-mail as the CRM has it
	retryAt time.Time
	lastErr error
}

// byEmail returns the id of the user with an e-mail ("" when none).
func (u *userDirectory) byEmail(ctx context.Context, email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return "", nil
	}
	if err := u.load(ctx); err != nil {
		return "", err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.ids[email], nil
}

// emailOf returns the e-mail of a user ("" when unknown, e.g. removed).
func (u *userDirectory) emailOf(ctx context.Context, id string) (string, error) {
	if err := u.load(ctx); err != nil {
		return "", err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.emails[id], nil
}

func (u *userDirectory) load(ctx context.Context) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if (u.ids != nil && time.Since(u.loaded) <= u.ttl) || time.Now().Before(u.retryAt) {
		if u.ids == nil {
			return u.lastErr
		}
		return nil
	}
	ids, emails := map[string]string{}, map[string]string{}
	for user, err := range u.c.Users(ctx, crm.UserQuery{}) {
		if err != nil {
			u.retryAt = time.Now().Add(time.Minute)
			if u.ids != nil {
				return nil // the last good list
			}
			u.lastErr = fmt.Errorf("listing CRM users: %w", err)
			return u.lastErr
		}
		if user.Email != "" {
			ids[strings.ToLower(user.Email)] = user.ID
			emails[user.ID] = user.Email
		}
	}
	u.ids, u.emails, u.loaded = ids, emails, time.Now()
	return nil
}
