package bridge

import (
	"context"
	"fmt"

	"github.com/erpbridge/erpbridge/bridge/store"
)

// AccountProbe is what a target system tells about the account its
// credentials reach.
type AccountProbe interface {
	// Account identifies the account (e.g. its id), stable across tokens
	// of different users of that account.
	Account(ctx context.Context) (string, error)
	// Exists reports whether the record crmID of entity exists there.
	Exists(ctx context.Context, entity, crmID string) (bool, error)
}

// accountProbes is how many of the most recently synced records are looked
// up: all of them missing means another (or an emptied) CRM; one deleted
// by a user does not.
const accountProbes = 3

// CheckAccount compares the account p reaches with the one recorded in
// st, records it the first time, and looks up the record the store synced
// last (and, if it is gone, two more): a store whose records are all
// missing was filled from another CRM. It costs one or two requests,
// four when records are missing.
func CheckAccount(ctx context.Context, st *store.Store, p AccountProbe) error {
	acct, err := p.Account(ctx)
	if err != nil {
		return fmt.Errorf("checking the CRM account: %w", err)
	}
	what := "Point data_dir at a new folder for this account, or run `erpbridge resync --new-account` to " +
		"forget what the store knows of the other CRM (every ERP record is then looked up in this CRM by its " +
		"natural key, adopted when found and created when not)"
	known, ok, err := st.Meta(ctx, store.MetaCRMAccount)
	if err != nil {
		return err
	}
	if ok && known != acct {
		return fmt.Errorf("%w: the checkpoint store %s was filled from CRM account %s, and the configured "+
			"credentials reach account %s. %s", ErrAccountChanged, st.Path(), known, acct, what)
	}
	recent, err := st.RecentIdentities(ctx, accountProbes)
	if err != nil {
		return err
	}
	missing := 0
	for _, id := range recent {
		found, err := p.Exists(ctx, id.Entity, id.CRMID)
		if err != nil {
			return fmt.Errorf("checking the CRM account: looking up %s %s: %w", id.Entity, id.CRMID, err)
		}
		if found {
			break
		}
		missing++
	}
	if len(recent) > 0 && missing == len(recent) {
		return fmt.Errorf("%w: none of the %d records the checkpoint store %s synced last is in the CRM (e.g. %s %s "+
			"for ERP record %s): the CRM was emptied, or is another one. %s", ErrAccountChanged, missing, st.Path(),
			recent[0].Entity, recent[0].CRMID, recent[0].ERPKey, what)
	}
	if !ok {
		return st.Update(ctx, func(tx *store.Tx) error { return tx.SetMeta(store.MetaCRMAccount, acct) })
	}
	return nil
}
