package wiring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/erpbridge/erpbridge/erp"
)

// ordersSource reads SC5 orders and takes a change of an SC6 item as a
// change of its order: a partial delivery (C6_QTDENT) or an item edited
// without the header being rewritten moves the deal's stage and products on
// the next poll, not only at the nightly full pass. Polls read the headers
// changed since the cursor, then the items changed since theirs, each
// turned into its order's header (read in one query per page). Full
// passes, look-ups and finds are the header table's.
type ordersSource struct {
	erp.Source            // SC5
	items      erp.Source // SC6
}

var _ erp.Source = (*ordersSource)(nil)

// ordersPosition is the poll cursor: one position per table.
type ordersPosition struct {
	Header erp.Position `json:"sc5"`
	Items  erp.Position `json:"sc6"`
}

func (p ordersPosition) encode() erp.Position {
	b, _ := json.Marshal(p)
	return erp.Position(b)
}

// decodeOrdersPosition reads a cursor. A cursor of the header alone (from
// a version that did not follow items) starts the items at their current
// high-water mark: item changes before it were not followed then either.
func (s *ordersSource) decodeOrdersPosition(ctx context.Context, p erp.Position) (ordersPosition, error) {
	var op ordersPosition
	if strings.HasPrefix(string(p), `{"sc5"`) {
		if err := json.Unmarshal([]byte(p), &op); err != nil {
			return op, fmt.Errorf("reading the orders cursor %q: %w", p, err)
		}
		return op, nil
	}
	op.Header = p
	cp, err := s.items.Checkpoint(ctx)
	if err != nil {
		return op, err
	}
	op.Items = cp
	return op, nil
}

// Incremental implements erp.Source: polls need both stamps.
func (s *ordersSource) Incremental() bool { return s.Source.Incremental() && s.items.Incremental() }

// Checkpoint implements erp.Source: both tables' high-water marks.
func (s *ordersSource) Checkpoint(ctx context.Context) (erp.Position, error) {
	h, err := s.Source.Checkpoint(ctx)
	if err != nil {
		return "", err
	}
	i, err := s.items.Checkpoint(ctx)
	if err != nil {
		return "", err
	}
	return ordersPosition{Header: h, Items: i}.encode(), nil
}

// Changes implements erp.Source.
func (s *ordersSource) Changes(ctx context.Context, since erp.Position, pageSize int) iter.Seq2[erp.Page, error] {
	return func(yield func(erp.Page, error) bool) {
		pos, err := s.decodeOrdersPosition(ctx, since)
		if err != nil {
			yield(erp.Page{}, err)
			return
		}
		for page, err := range s.Source.Changes(ctx, pos.Header, pageSize) {
			if err != nil {
				yield(erp.Page{}, err)
				return
			}
			pos.Header = page.Next
			if !yield(erp.Page{Records: page.Records, Next: pos.encode()}, nil) {
				return
			}
		}
		for page, err := range s.items.Changes(ctx, pos.Items, pageSize) {
			if err != nil {
				yield(erp.Page{}, err)
				return
			}
			headers, err := s.headersOf(ctx, page.Records)
			if err != nil {
				yield(erp.Page{}, err)
				return
			}
			pos.Items = page.Next
			if !yield(erp.Page{Records: headers, Next: pos.encode()}, nil) {
				return
			}
		}
	}
}

// headersOf reads the SC5 headers of changed SC6 items, each once, in the
// order of the items; the live header wins over a deleted one.
func (s *ordersSource) headersOf(ctx context.Context, items []erp.Record) ([]erp.Record, error) {
	var nums []string
	for _, it := range items {
		nums = append(nums, str(it, "C6_NUM"))
	}
	nums = distinct(nums)
	if len(nums) == 0 {
		return nil, nil
	}
	byNum := map[string]erp.Record{}
	for chunk := range slices.Chunk(nums, pageChunk) {
		rows, err := s.Source.Find(ctx, []erp.Match{erp.AnyOf("C5_NUM", chunk)}, 2*len(chunk)+10)
		if err != nil {
			return nil, fmt.Errorf("reading the orders of changed items: %w", err)
		}
		for _, r := range rows {
			n := strings.TrimSpace(str(r, "C5_NUM"))
			if prev, ok := byNum[n]; !ok || (prev.Deleted && !r.Deleted) {
				byNum[n] = r
			}
		}
	}
	out := make([]erp.Record, 0, len(byNum))
	for _, n := range nums {
		if r, ok := byNum[n]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// Close implements erp.Source.
func (s *ordersSource) Close() error {
	return errors.Join(s.Source.Close(), s.items.Close())
}
