package bridge

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
)

type fakeAccount struct {
	id      string
	records map[string]bool // crm id -> exists
	lookups int
}

func (f *fakeAccount) Account(context.Context) (string, error) { return f.id, nil }
func (f *fakeAccount) Exists(_ context.Context, _, id string) (bool, error) {
	f.lookups++
	return f.records[id], nil
}

func TestCheckAccount(t *testing.T) {
	tests := []struct {
		name        string
		recorded    string          // account already in the store ("" = none)
		synced      []string        // CRM ids the store holds, oldest first
		account     string          // what the probe reaches
		exist       map[string]bool // of those, which the CRM has
		wantErr     bool
		maxLookups  int
		wantAccount string
	}{
		{"a new store records the account", "", nil, "acct-1", nil, false, 0, "acct-1"},
		{"the same account, its records there", "acct-1", []string{"a", "b", "c"}, "acct-1", map[string]bool{"a": true, "b": true, "c": true}, false, 1, "acct-1"},
		{"one record deleted by a user", "acct-1", []string{"a", "b", "c"}, "acct-1", map[string]bool{"a": true, "b": true}, false, 2, "acct-1"},
		{"another account", "acct-1", []string{"a"}, "acct-2", nil, true, 0, "acct-1"},
		{"the same account emptied", "acct-1", []string{"a", "b", "c", "d"}, "acct-1", map[string]bool{"a": true}, true, 3, "acct-1"},
		{"a store from before the check, another CRM", "", []string{"a", "b"}, "acct-9", nil, true, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.Update(ctx, func(tx *store.Tx) error {
				if tt.recorded != "" {
					if err := tx.SetMeta(store.MetaCRMAccount, tt.recorded); err != nil {
						return err
					}
				}
				for i, id := range tt.synced {
					if err := tx.PutIdentity(store.Identity{Entity: "organization", ERPKey: id, CRMID: id,
						SyncedAt: testTime.Add(timeUnit * time.Duration(i))}); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			p := &fakeAccount{id: tt.account, records: tt.exist}
			err = CheckAccount(ctx, st, p)
			if got := errors.Is(err, ErrAccountChanged); got != tt.wantErr {
				t.Fatalf("CheckAccount = %v, want ErrAccountChanged %v", err, tt.wantErr)
			}
			if p.lookups > tt.maxLookups {
				t.Errorf("%d record lookups, want at most %d", p.lookups, tt.maxLookups)
			}
			got, _, _ := st.Meta(ctx, store.MetaCRMAccount)
			if got != tt.wantAccount {
				t.Errorf("recorded account = %q, want %q", got, tt.wantAccount)
			}
		})
	}
}

var testTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const timeUnit = time.Minute
