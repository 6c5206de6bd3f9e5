package wiring

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/mapping"
)

// The related rows one record reads at most (deleted versions included),
// the same whether read alone or with its page.
const (
	linksPerContact  = 1000 // AC8 rows of one contact
	pricesPerProduct = 1000 // DA1 rows of one product in one price table
)

// mark is how a record is marked in the CRM (deleted or blocked in the ERP).
type mark struct {
	namePrefix string
	fieldID    string // custom field id
	value      string
	customKey  string // payload key of the entity's custom fields
}

func newMark(m config.DeleteMark, catalog mapping.CustomFieldCatalog, customKey string) (*mark, error) {
	if m.NamePrefix == "" && m.CustomField == "" {
		return nil, nil
	}
	mk := &mark{namePrefix: m.NamePrefix, value: m.Value, customKey: customKey}
	if m.CustomField != "" {
		f, err := catalog.Lookup(m.CustomField)
		if err != nil {
			return nil, err
		}
		if len(f.Options) > 0 && !contains(f.Options, m.Value) {
			return nil, fmt.Errorf("custom field %q has no option %q (options: %s)", m.CustomField, m.Value, strings.Join(f.Options, ", "))
		}
		mk.fieldID = f.ID
	}
	return mk, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// apply marks a mapped payload and refreshes its fingerprint.
func (mk *mark) apply(version string, m bridge.Mapped) bridge.Mapped {
	if mk == nil || m.Payload == nil {
		return m
	}
	if mk.namePrefix != "" {
		if name, ok := m.Payload["name"].(string); ok && !strings.HasPrefix(name, mk.namePrefix) {
			m.Payload["name"] = mk.namePrefix + name
		}
	}
	if mk.fieldID != "" {
		list, _ := m.Payload[mk.customKey].([]map[string]any)
		kept := list[:0:0]
		for _, v := range list {
			if v["custom_field_id"] != mk.fieldID {
				kept = append(kept, v)
			}
		}
		m.Payload[mk.customKey] = append(kept, map[string]any{"custom_field_id": mk.fieldID, "value": mk.value})
	}
	fp, err := mapping.Fingerprint(version+"+mark", m.Payload)
	if err != nil {
		m.Errors = append(m.Errors, err)
		return m
	}
	m.Fingerprint = fp
	return m
}

// mapRecord applies a compiled mapping to an ERP record, with extra
// columns read from related rows (extra's records give their BadValues):
// a field whose value is invalid is left out with a warning, or fails the
// record, as its on_invalid says.
func mapRecord(m *mapping.Mapping, rec erp.Record, extra map[string]any, extraFrom ...erp.Record) bridge.Mapped {
	fields := rec.Fields
	if len(extra) > 0 {
		fields = make(map[string]any, len(rec.Fields)+len(extra))
		for k, v := range rec.Fields {
			fields[k] = v
		}
		for k, v := range extra {
			fields[k] = v
		}
	}
	invalid := map[string]string{}
	unreadable := func(r erp.Record, only map[string]any) {
		for _, b := range r.BadValues {
			if _, ok := only[b.Column]; only == nil || ok {
				invalid[b.Column] = fmt.Sprintf("holds %q, which %s", b.Value, b.Reason)
			}
		}
	}
	unreadable(rec, nil)
	for _, r := range extraFrom {
		unreadable(r, extra)
	}
	res, err := m.ApplyInvalid(rec.Key, fields, invalid)
	out := bridge.Mapped{Payload: res.Payload, Fingerprint: res.Fingerprint}
	for _, fe := range res.Errors {
		out.Errors = append(out.Errors, fe)
	}
	for _, fe := range res.Warnings {
		out.Warnings = append(out.Warnings, fe)
	}
	if err != nil {
		out.Errors = append(out.Errors, err)
	}
	if len(out.Errors) > 0 {
		out.Payload, out.Warnings = nil, nil
	}
	return out
}

func str(rec erp.Record, col string) string {
	s, _ := rec.Fields[col].(string)
	return s
}

// customerMapper maps SA1 customers to organizations.
type customerMapper struct {
	m        *mapping.Mapping
	blocked  string // skip | mark
	blockMk  *mark
	deleteMk *mark
}

var _ bridge.Mapper = (*customerMapper)(nil)

func (c *customerMapper) Map(_ context.Context, rec erp.Record, _ bridge.Resolver) bridge.Mapped {
	if protheus.IsBlocked(str(rec, "A1_MSBLQL")) && c.blocked == config.BlockedSkip {
		return bridge.Mapped{Skip: true, SkipReason: "blocked in the ERP (A1_MSBLQL = '1')"}
	}
	out := mapRecord(c.m, rec, nil)
	if protheus.IsBlocked(str(rec, "A1_MSBLQL")) {
		out = c.blockMk.apply(c.m.Version(), out)
	}
	return out
}

func (c *customerMapper) MapDeleted(_ context.Context, rec erp.Record, _ bridge.Resolver) bridge.Mapped {
	if c.deleteMk == nil {
		return bridge.Mapped{Skip: true, SkipReason: "deletes are ignored"}
	}
	return c.deleteMk.apply(c.m.Version(), mapRecord(c.m, rec, nil))
}

// contactMapper maps SU5 contacts, linked to customers through AC8, to
// contacts of the customer's organization.
type contactMapper struct {
	m        *mapping.Mapping
	links    erp.Source // AC8
	codWidth int        // width of A1_COD inside AC8_CODENT
	resolve  bool       // the customers stream is enabled
	// syncUnlinked sends a contact linked to no customer the CRM has
	// (streams.contacts.unlinked = "sync") without organization.
	syncUnlinked bool
	deleteMk     *mark
	page         pageRows // the AC8 links of the page being mapped
}

var (
	_ bridge.Mapper       = (*contactMapper)(nil)
	_ bridge.PagePreparer = (*contactMapper)(nil)
)

// PreparePage reads the AC8 links of a page of contacts in a few queries.
func (c *contactMapper) PreparePage(ctx context.Context, recs []erp.Record) {
	if !c.resolve {
		return
	}
	codes := make([]string, len(recs))
	for i, r := range recs {
		codes[i] = str(r, "U5_CODCONT")
	}
	c.page.prepare(ctx, c.links, nil, "AC8_CODCON", codes, linksPerContact)
}

// organization returns the CRM id of the first customer (by AC8 record
// number) the contact is linked to. A CRM contact belongs to one
// organization; a contact linked to several customers goes to the first.
// passed lists the customers it is linked to that will not be in the CRM.
func (c *contactMapper) organization(ctx context.Context, rec erp.Record, r bridge.Resolver) (id string, passed []string, err error) {
	if !c.resolve {
		return "", nil, nil
	}
	code := str(rec, "U5_CODCONT")
	links, err := c.page.find(code, func() ([]erp.Record, error) {
		return c.links.Find(ctx, protheus.LinksOfContact(code), linksPerContact)
	})
	if err != nil {
		return "", nil, fmt.Errorf("reading AC8 links of contact %s: %w", code, err)
	}
	for _, l := range links {
		if l.Deleted || strings.TrimSpace(str(l, "AC8_ENTIDA")) != "SA1" {
			continue
		}
		ent := str(l, "AC8_CODENT")
		if len(ent) < c.codWidth {
			continue
		}
		key := erp.JoinKey(str(l, "AC8_FILENT"), ent[:c.codWidth], ent[c.codWidth:])
		id, err := r.Resolve(ctx, "customers", key)
		if errors.Is(err, bridge.ErrNoDependency) {
			passed = append(passed, key) // e.g. a blocked customer: try the next link
			continue
		}
		if err != nil {
			return "", nil, err
		}
		return id, nil, nil
	}
	return "", passed, nil
}

func (c *contactMapper) Map(ctx context.Context, rec erp.Record, r bridge.Resolver) bridge.Mapped {
	orgID, passed, err := c.organization(ctx, rec, r)
	if err != nil {
		return bridge.Mapped{Retry: fmt.Errorf("contact %s waits for its organization: %w", rec.Key, err)}
	}
	if c.resolve && orgID == "" && !c.syncUnlinked {
		// Left out on purpose, but listed: a contact never vanishes unnoticed.
		why := "it has no AC8 link to a customer"
		if len(passed) > 0 {
			why = "its AC8 links go to customers the CRM does not get (blocked, deleted or not in SA1): " + strings.Join(passed, ", ")
		}
		reason := fmt.Errorf("contact %s: %s (streams.contacts.unlinked = \"skip\")", rec.Key, why)
		return bridge.Mapped{Skip: true, SkipReason: reason.Error(), Warnings: []error{reason}}
	}
	extra := map[string]any{}
	out := mapRecord(c.m, rec, extra)
	if out.Payload != nil && orgID != "" {
		out.Payload["organization_id"] = orgID
		fp, err := mapping.Fingerprint(c.m.Version(), out.Payload)
		if err != nil {
			return bridge.Mapped{Errors: []error{err}}
		}
		out.Fingerprint = fp
	}
	return out
}

func (c *contactMapper) MapDeleted(ctx context.Context, rec erp.Record, r bridge.Resolver) bridge.Mapped {
	if c.deleteMk == nil {
		return bridge.Mapped{Skip: true, SkipReason: "deletes are ignored"}
	}
	return c.deleteMk.apply(c.m.Version(), c.Map(ctx, rec, r))
}

// productMapper maps SB1 products to products, with the price from a DA1
// price table when one is configured.
type productMapper struct {
	m          *mapping.Mapping
	prices     erp.Source // DA1; nil without a price table
	priceTable string
	deleteMk   *mark
	page       pageRows // the DA1 prices of the page being mapped
}

var (
	_ bridge.Mapper       = (*productMapper)(nil)
	_ bridge.PagePreparer = (*productMapper)(nil)
)

// PreparePage reads the DA1 prices of a page of products in a few queries.
func (p *productMapper) PreparePage(ctx context.Context, recs []erp.Record) {
	if p.prices == nil {
		return
	}
	codes := make([]string, len(recs))
	for i, r := range recs {
		codes[i] = str(r, "B1_COD")
	}
	p.page.prepare(ctx, p.prices, []erp.Match{{Column: "DA1_CODTAB", Value: p.priceTable}}, "DA1_CODPRO", codes, pricesPerProduct)
}

func (p *productMapper) Map(ctx context.Context, rec erp.Record, _ bridge.Resolver) bridge.Mapped {
	extra := map[string]any{"DA1_PRCVEN": nil}
	var price []erp.Record // the DA1 row the price comes from
	if p.prices != nil {
		code := str(rec, "B1_COD")
		rows, err := p.page.find(code, func() ([]erp.Record, error) {
			return p.prices.Find(ctx, protheus.PriceOf(p.priceTable, code), pricesPerProduct)
		})
		if err != nil {
			// The ERP connection failed, not the data: retry later.
			return bridge.Mapped{Retry: fmt.Errorf("product %s: reading price table %s: %w", rec.Key, p.priceTable, err)}
		}
		for _, row := range rows {
			if !row.Deleted && strings.TrimSpace(str(row, "DA1_ATIVO")) != "2" {
				extra["DA1_PRCVEN"], price = row.Fields["DA1_PRCVEN"], []erp.Record{row}
				break
			}
		}
	}
	return mapRecord(p.m, rec, extra, price...)
}

func (p *productMapper) MapDeleted(ctx context.Context, rec erp.Record, r bridge.Resolver) bridge.Mapped {
	if p.deleteMk == nil {
		return bridge.Mapped{Skip: true, SkipReason: "deletes are ignored"}
	}
	return p.deleteMk.apply(p.m.Version(), p.Map(ctx, rec, r))
}

// customerContactMapper maps an SA1 customer's own e-mail and phone to a
// contact of its organization (streams.contacts.customer_email).
type customerContactMapper struct {
	m       *mapping.Mapping
	blocked string
}

var _ bridge.Mapper = (*customerContactMapper)(nil)

// customerContactSpec is the mapping of a customer's own contact.
func customerContactSpec() mapping.Spec {
	return mapping.Spec{
		Version: "1",
		Record:  "customer contact",
		Entity:  mapping.EntityContact,
		Fields: map[string]string{
			"name":   "title(ifempty(A1_CONTATO, A1_NOME))",
			"emails": "emails(A1_EMAIL)",
			"phones": "[phone(A1_DDD, A1_TEL)]",
		},
	}
}

func (c *customerContactMapper) Map(ctx context.Context, rec erp.Record, r bridge.Resolver) bridge.Mapped {
	if protheus.IsBlocked(str(rec, "A1_MSBLQL")) && c.blocked == config.BlockedSkip {
		return bridge.Mapped{Skip: true, SkipReason: "blocked in the ERP (A1_MSBLQL = '1')"}
	}
	if strings.TrimSpace(str(rec, "A1_EMAIL")) == "" && strings.TrimSpace(str(rec, "A1_TEL")) == "" {
		return bridge.Mapped{Skip: true, SkipReason: "the customer has no e-mail or phone"}
	}
	orgID, err := r.Resolve(ctx, "customers", rec.Key)
	if errors.Is(err, bridge.ErrNoDependency) {
		return bridge.Mapped{Skip: true, SkipReason: "the customer is not synced: " + err.Error()}
	}
	if err != nil {
		return bridge.Mapped{Retry: fmt.Errorf("customer contact %s waits for its organization: %w", rec.Key, err)}
	}
	out := mapRecord(c.m, rec, nil)
	if out.Payload != nil {
		out.Payload["organization_id"] = orgID
		fp, err := mapping.Fingerprint(c.m.Version(), out.Payload)
		if err != nil {
			return bridge.Mapped{Errors: []error{err}}
		}
		out.Fingerprint = fp
	}
	return out
}

func (c *customerContactMapper) MapDeleted(context.Context, erp.Record, bridge.Resolver) bridge.Mapped {
	return bridge.Mapped{Skip: true, SkipReason: "a deleted customer's contact is left in the CRM"}
}
