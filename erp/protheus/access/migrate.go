package access

import (
	"context"
	"fmt"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp/protheus"
)

// KeysMeta is the store meta key saying which key rule the store's ERP
// keys follow; KeysEstate is protheus.EstateKey's (company first). A
// store without it was filled by a one-company version: its keys are
// table keys alone.
const (
	KeysMeta   = "erp.keys"
	KeysEstate = "company|table-key"
)

var _ component.StoreMigrator = (*Config)(nil)

// MigrateStore implements component.StoreMigrator: the keys of a store of
// an earlier, one-company version get the company it served — the first
// of erp.companies, or erp.company — so the records it synced keep their
// identities and fingerprints and nothing is sent again. Once, in one
// transaction that re-reads the mark (a dry run may open the store while
// the service runs).
func (c *Config) MigrateStore(ctx context.Context, st *store.Store) error {
	company := c.CompanyList()[0]
	return st.Update(ctx, func(tx *store.Tx) error {
		v, ok, err := tx.Meta(KeysMeta)
		if err != nil {
			return err
		}
		switch {
		case ok && v == KeysEstate:
			return nil
		case ok:
			return fmt.Errorf("the checkpoint store's ERP keys follow %q, which this version does not know: use the version that wrote it", v)
		}
		if _, err := tx.PrefixERPKeys(protheus.EstateKey(company, "")); err != nil {
			return fmt.Errorf("migrating the checkpoint store's keys to company %s: %w", company, err)
		}
		return tx.SetMeta(KeysMeta, KeysEstate)
	})
}
