package sqlerp

import (
	"context"
	"fmt"
	"iter"

	"github.com/erpbridge/erpbridge/erp"
)

var _ erp.MatchPager = (*Source)(nil)

// FindPages implements erp.MatchPager: the rows matching every condition,
// pageSize at a time in record order, each page continuing behind the
// last record of the one before (keyset on the record number), so memory
// stays one page whatever the count.
func (s *Source) FindPages(ctx context.Context, match []erp.Match, pageSize int) iter.Seq2[[]erp.Record, error] {
	return func(yield func([]erp.Record, error) bool) {
		if pageSize <= 0 {
			yield(nil, fmt.Errorf("finding rows in %s: page size must be positive", s.spec.Physical))
			return
		}
		var after *int64
		for {
			st, err := findAfterStatement(s.d, s.spec, match, after, pageSize)
			if err != nil {
				yield(nil, err)
				return
			}
			recs, err := s.readPage(ctx, st, pageSize)
			if err != nil {
				yield(nil, fmt.Errorf("finding rows in %s: %w", s.spec.Physical, err))
				return
			}
			if len(recs) == 0 || !yield(recs, nil) || len(recs) < pageSize {
				return
			}
			last := recs[len(recs)-1].Recno
			after = &last
		}
	}
}
