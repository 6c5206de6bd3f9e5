package credit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus/streams"
	"github.com/erpbridge/erpbridge/erp/protheus/streams/customers"
	"github.com/erpbridge/erpbridge/mapping"
)

// titlesPrepared bounds the SE1 rows a page reads per customer code at
// once; a customer with more has its titles read on their own, page by
// page, so no title is ever left out of its sums.
const titlesPrepared = 2000

// mapper maps an SA1 customer to its credit position.
type mapper struct {
	m          *mapping.Mapping
	now        func() time.Time
	titles     []erp.Source // SE1, one per filial
	pages      []streams.PageRows
	exclude    map[string]bool // E1_TIPO not counted
	currencies map[int64]bool  // E1_MOEDA counted
}

var (
	_ bridge.Mapper       = (*mapper)(nil)
	_ bridge.PagePreparer = (*mapper)(nil)
)

// PreparePage reads the titles of a page of customers in a few queries.
func (p *mapper) PreparePage(ctx context.Context, recs []erp.Record) {
	if len(p.pages) != len(p.titles) {
		p.pages = make([]streams.PageRows, len(p.titles))
	}
	codes := make([]string, len(recs))
	for i, r := range recs {
		codes[i] = streams.Str(r, "A1_COD")
	}
	if len(recs) == 0 {
		codes = nil
	}
	for i, src := range p.titles {
		p.pages[i].Prepare(ctx, src, nil, "E1_CLIENTE", codes, titlesPrepared)
	}
}

// Map implements bridge.Mapper.
func (p *mapper) Map(ctx context.Context, rec erp.Record, r bridge.Resolver) bridge.Mapped {
	orgID, err := r.Resolve(ctx, customers.Name, rec.Key)
	switch {
	case errors.Is(err, bridge.ErrNoDependency):
		return bridge.Mapped{Skip: true, SkipReason: "its organization is not in the CRM: " + err.Error()}
	case err != nil:
		return bridge.Mapped{Retry: err}
	}
	cod, loja := streams.Str(rec, "A1_COD"), streams.Str(rec, "A1_LOJA")
	pos := position{today: day(p.now())}
	var from []erp.Record
	for i, src := range p.titles {
		rows, err := p.customerTitles(ctx, i, src, cod, loja)
		if err != nil {
			// The ERP connection failed, not the data: retry later.
			return bridge.Mapped{Retry: fmt.Errorf("customer credit %s: reading its titles: %w", rec.Key, err)}
		}
		for _, t := range rows {
			if p.counts(t, loja) && pos.add(t) {
				from = append(from, t)
			}
		}
	}
	extra := pos.columns(rec.Fields["A1_LC"])
	m := streams.MapRecord(p.m, rec, extra, from...)
	if m.Payload != nil {
		m.Payload[bridge.FacetOf] = orgID
		// Another organization (made again) is written again.
		m.Fingerprint += "@" + orgID
	}
	return m
}

// MapDeleted implements bridge.Mapper: a deleted customer's organization
// is the customers stream's to mark.
func (p *mapper) MapDeleted(context.Context, erp.Record, bridge.Resolver) bridge.Mapped {
	return bridge.Mapped{Skip: true, SkipReason: "deleted in the ERP: its organization is the customers stream's"}
}

// customerTitles reads every title of one customer in one SE1, from the
// prepared page when it holds them all.
func (p *mapper) customerTitles(ctx context.Context, i int, src erp.Source, cod, loja string) ([]erp.Record, error) {
	read := func() ([]erp.Record, error) { return allTitles(ctx, src, cod, loja) }
	if i >= len(p.pages) {
		return read()
	}
	rows, err := p.pages[i].Find(cod, read)
	if err == nil && len(rows) >= titlesPrepared {
		return read() // cut at the prepared bound: read them all
	}
	return rows, err
}

// allTitles reads a customer's titles page by page.
func allTitles(ctx context.Context, src erp.Source, cod, loja string) ([]erp.Record, error) {
	match := []erp.Match{{Column: "E1_CLIENTE", Value: cod}, {Column: "E1_LOJA", Value: loja}}
	pager, ok := src.(erp.MatchPager)
	if !ok {
		rows, err := src.Find(ctx, match, streams.PageRowsLimit)
		if err == nil && len(rows) >= streams.PageRowsLimit {
			return nil, fmt.Errorf("more than %d titles: the ERP's reads cannot page them", streams.PageRowsLimit)
		}
		return rows, err
	}
	var out []erp.Record
	for page, err := range pager.FindPages(ctx, match, 1000) {
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
	}
	return out, nil
}

// counts reports whether a title is one of the customer's open debts.
func (p *mapper) counts(t erp.Record, loja string) bool {
	if t.Deleted || !strings.EqualFold(strings.TrimSpace(streams.Str(t, "E1_LOJA")), strings.TrimSpace(loja)) {
		return false
	}
	typ := strings.ToUpper(strings.TrimSpace(streams.Str(t, "E1_TIPO")))
	if p.exclude[typ] || strings.HasSuffix(typ, "-") {
		return false
	}
	cur := int64(1)
	if v, ok := t.Fields["E1_MOEDA"]; ok && v != nil {
		if d, ok := asDecimal(v); ok {
			cur = d.IntPart()
		}
	}
	return p.currencies[cur]
}

// position sums a customer's open titles.
type position struct {
	today              time.Time
	open, overdue      decimal.Decimal
	overdueN, daysLate int64
	nextDue            time.Time
	hasNext            bool
}

// add counts one title; it reports whether the title is open (so its
// unreadable values concern the figures).
func (s *position) add(t erp.Record) bool {
	saldo, ok := asDecimal(t.Fields["E1_SALDO"])
	if !ok || !saldo.IsPositive() {
		return false
	}
	s.open = s.open.Add(saldo)
	due, ok := t.Fields["E1_VENCREA"].(time.Time)
	if !ok {
		due, ok = t.Fields["E1_VENCTO"].(time.Time)
	}
	if !ok {
		return true // no due date: open, never overdue
	}
	due = day(due)
	if due.Before(s.today) {
		s.overdue = s.overdue.Add(saldo)
		s.overdueN++
		if d := int64(s.today.Sub(due).Hours() / 24); d > s.daysLate {
			s.daysLate = d
		}
	} else if !s.hasNext || due.Before(s.nextDue) {
		s.nextDue, s.hasNext = due, true
	}
	return true
}

// columns are the figures as the mapping reads them.
func (s *position) columns(limit any) map[string]any {
	out := map[string]any{
		ColOpen: s.open, ColOverdue: s.overdue, ColOverdueCount: s.overdueN, ColDaysLate: s.daysLate,
		ColAvailable: nil, ColNextDue: nil,
	}
	if l, ok := asDecimal(limit); ok {
		out[ColAvailable] = l.Sub(s.open)
	}
	if s.hasNext {
		out[ColNextDue] = s.nextDue
	}
	return out
}

// day is t's calendar day, as the ERP's dates are kept (UTC midnight).
func day(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func asDecimal(v any) (decimal.Decimal, bool) {
	switch x := v.(type) {
	case decimal.Decimal:
		return x, true
	case int64:
		return decimal.NewFromInt(x), true
	case int:
		return decimal.NewFromInt(int64(x)), true
	}
	return decimal.Decimal{}, false
}
