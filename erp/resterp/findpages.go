package resterp

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strings"

	"github.com/erpbridge/erpbridge/erp"
)

var _ erp.MatchPager = (*Source)(nil)

// maxPagedFinds bounds FindPages on a route that never says it is done.
const maxPagedFinds = 10000

// FindPages implements erp.MatchPager: each match is sent as a query
// parameter (column=value) and checked again on the answer, one route page
// at a time until the route says no page follows. A list of values
// (Match.Values) is not paged: it goes to Find.
func (s *Source) FindPages(ctx context.Context, match []erp.Match, pageSize int) iter.Seq2[[]erp.Record, error] {
	return func(yield func([]erp.Record, error) bool) {
		if pageSize <= 0 {
			yield(nil, fmt.Errorf("finding rows in %s: page size must be positive", s.spec.Name))
			return
		}
		for _, m := range match {
			if m.Values != nil {
				recs, err := s.Find(ctx, match, maxFindPages*pageSize)
				yield(recs, err)
				return
			}
		}
		for n := range maxPagedFinds {
			q := url.Values{}
			for _, m := range match {
				q.Set(strings.ToUpper(m.Column), m.Value)
			}
			s.setPage(q, n, pageSize)
			recs, more, err := s.list(ctx, s.spec.Path, q, pageSize)
			if err != nil {
				yield(nil, fmt.Errorf("finding rows in %s: %w", s.spec.Name, err))
				return
			}
			out := recs[:0]
			for _, r := range recs {
				if matches(r, match) {
					out = append(out, r)
				}
			}
			if len(out) > 0 && !yield(out, nil) {
				return
			}
			if !more || len(recs) == 0 {
				return
			}
		}
	}
}
