package crmv2

import (
	"context"
	"fmt"
	"iter"
	"time"
)

// ListingCap is how many records one v2 listing reaches, whatever its
// filter (docs/rdstation-api.md §2: "The 10k cap applies").
const ListingCap = 10000

// walk yields every record path's filter selects with field >= from, in
// field order, past the listing cap: it reads the listing sorted by field
// and, when a listing stopped at the cap, reads again from the last
// record's field value (whole seconds, the filter's precision), skipping
// what it already yielded at that boundary. Records without the field are
// never selected by a >= filter, so they are not walked.
func walk[T any](ctx context.Context, c *Client, path string, base Filter, field Field, from time.Time,
	at func(T) *time.Time, id func(T) string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		floor := from.UTC().Truncate(time.Second)
		skip := map[string]bool{} // yielded already, at the floor second
		for {
			q := Query{Filter: And(base, Since(field, floor)), Sort: field}
			n := 0
			var top time.Time          // the latest second read
			atTop := map[string]bool{} // the ids read at it
			for r, err := range list[T](ctx, c, path, q) {
				if err != nil {
					yield(zero, err)
					return
				}
				n++
				t := at(r)
				if t == nil {
					continue
				}
				sec := t.UTC().Truncate(time.Second)
				if sec.After(top) {
					top, atTop = sec, map[string]bool{}
				}
				if sec.Equal(top) {
					atTop[id(r)] = true
				}
				if skip[id(r)] {
					continue
				}
				if !yield(r, nil) {
					return
				}
			}
			if n < ListingCap {
				return
			}
			if !top.After(floor) {
				yield(zero, fmt.Errorf("reading %s by %s: more than %d records at %s, past the listing cap", path, field, ListingCap, floor.Format(TimeLayout)))
				return
			}
			floor, skip = top, atTop
		}
	}
}

// WonDealsSince yields every deal won at or after since, oldest close
// first, past the 10,000-record listing cap (the won-deal poll).
func (c *Client) WonDealsSince(ctx context.Context, since time.Time) iter.Seq2[Deal, error] {
	return walk(ctx, c, "/deals", Eq(FieldStatus, StatusWon), FieldClosedAt, since,
		func(d Deal) *time.Time { return d.ClosedAt }, func(d Deal) string { return d.ID })
}

// WonDealsBetween yields the deals won from from to to, oldest close
// first, past the cap. The filter's precision is the second: from is
// rounded down and to up, so nothing inside the window is missed (a deal
// up to a second outside may be yielded; the caller deduplicates).
func (c *Client) WonDealsBetween(ctx context.Context, from, to time.Time) iter.Seq2[Deal, error] {
	upper := to.UTC().Truncate(time.Second)
	if upper.Before(to) {
		upper = upper.Add(time.Second)
	}
	base := And(Eq(FieldStatus, StatusWon), Lte(FieldClosedAt, upper.Format(TimeLayout)))
	return walk(ctx, c, "/deals", base, FieldClosedAt, from,
		func(d Deal) *time.Time { return d.ClosedAt }, func(d Deal) string { return d.ID })
}

// DealsUpdatedSince yields every deal changed at or after since, oldest
// change first, past the cap (a deal lost or reopened in the CRM).
func (c *Client) DealsUpdatedSince(ctx context.Context, since time.Time) iter.Seq2[Deal, error] {
	return walk(ctx, c, "/deals", Filter{}, FieldUpdatedAt, since,
		func(d Deal) *time.Time { return d.UpdatedAt }, func(d Deal) string { return d.ID })
}

// OrganizationsUpdatedSince yields every organization changed at or after
// since, oldest change first, past the cap.
func (c *Client) OrganizationsUpdatedSince(ctx context.Context, since time.Time) iter.Seq2[Organization, error] {
	return walk(ctx, c, "/organizations", Filter{}, FieldUpdatedAt, since,
		func(o Organization) *time.Time { return o.UpdatedAt }, func(o Organization) string { return o.ID })
}
