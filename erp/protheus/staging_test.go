package protheus_test

import (
	"testing"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// TestStagingMatchesFixture checks the ZB1/ZB2 preset against the staging
// tables the fixture creates (docs/protheus.md): names, widths, decimals.
func TestStagingMatchesFixture(t *testing.T) {
	spec := protheus.Staging(fixture.Company, fixture.OrderFilial)
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	if spec.Header.Table != "ZB1010" || spec.Items.Table != "ZB2010" {
		t.Errorf("tables %s, %s; want ZB1010, ZB2010", spec.Header.Table, spec.Items.Table)
	}
	h, it := spec.Header, spec.Items
	written := map[string][]sqlerp.StagingColumn{
		fixture.StagingAlias: {h.Filial, h.DealID, h.OrderType, h.Customer, h.Store, h.Seller, h.PaymentTerms, h.PriceTable,
			h.Message, h.Status, h.OrderNumber, h.Error, h.CreatedDate, h.CreatedTime},
		fixture.StagingItemsAlias: {it.Filial, it.DealID, it.Item, it.Product, it.Quantity, it.UnitPrice, it.ListPrice, it.Value,
			it.TES, it.Operation},
	}
	jobOnly := map[string]bool{"ZB1_TENTAT": true, "ZB1_DTPROC": true, "ZB1_HRPROC": true}
	for alias, cols := range written {
		fields := map[string]protheus.Field{}
		for _, f := range fixture.StagingFields(alias) {
			fields[f.Name] = f
		}
		for _, c := range cols {
			f, ok := fields[c.Name]
			if !ok {
				t.Errorf("%s: the preset writes %s, which the fixture's %s lacks", alias, c.Name, alias)
				continue
			}
			delete(fields, c.Name)
			want := sqlerp.StagingColumn{Name: f.Name, Width: f.Size, Decimals: f.Decimals}
			if f.Type == protheus.Memo {
				want.Width = 0
			}
			if c != want {
				t.Errorf("%s: preset %+v, fixture %+v", alias, c, want)
			}
		}
		for name := range fields {
			if !jobOnly[name] {
				t.Errorf("%s: the fixture's %s is not in the preset", alias, name)
			}
		}
	}
	wantStatus := sqlerp.StagingStatuses{Waiting: fixture.StagingWaiting, Processing: fixture.StagingProcessing,
		Done: fixture.StagingDone, Error: fixture.StagingError}
	if spec.Statuses != wantStatus {
		t.Errorf("statuses %+v, want %+v", spec.Statuses, wantStatus)
	}
	if code, err := spec.ItemCode(100); err != nil || code != "9A" {
		t.Errorf("ItemCode(100) = %q, %v; want 9A (Soma1)", code, err)
	}
}
