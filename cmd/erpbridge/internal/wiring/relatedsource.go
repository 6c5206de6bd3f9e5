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

// relatedSource reads a table and takes a change of a related row as a
// change of the row it belongs to: an SC6 item changes its SC5 order (a
// partial delivery writes only SC6), an AC8 link changes its SU5 contact
// (a contact linked to a customer after it was synced). Without it such a
// change would wait for the nightly full pass. Polls read the rows changed
// since the cursor, then the related rows changed since theirs, each
// turned into the row it belongs to (read in one query per page). Full
// passes, look-ups and finds are the main table's.
type relatedSource struct {
	erp.Source // the main table (SC5, SU5)
	// related is the related table (SC6, AC8); relatedColumn in it holds
	// the value of column in the main table (C6_NUM = C5_NUM,
	// AC8_CODCON = U5_CODCONT).
	related               erp.Source
	relatedColumn, column string
}

var _ erp.Source = (*relatedSource)(nil)

// relatedPosition is the poll cursor: one position per table.
type relatedPosition struct {
	Main    erp.Position `json:"main"`
	Related erp.Position `json:"related"`
}

func (p relatedPosition) encode() erp.Position {
	b, _ := json.Marshal(p)
	return erp.Position(b)
}

// decodePosition reads a cursor. A cursor of the main table alone (from
// a version that did not follow related rows) starts both tables there:
// positions of one source kind share their format (a stamp), so related
// rows changed since the last poll are read too.
func (s *relatedSource) decodePosition(_ context.Context, p erp.Position) (relatedPosition, error) {
	var rp relatedPosition
	if strings.HasPrefix(string(p), `{"main"`) {
		if err := json.Unmarshal([]byte(p), &rp); err != nil {
			return rp, fmt.Errorf("reading the cursor %q: %w", p, err)
		}
		return rp, nil
	}
	return relatedPosition{Main: p, Related: p}, nil
}

// Incremental implements erp.Source: polls need both stamps.
func (s *relatedSource) Incremental() bool { return s.Source.Incremental() && s.related.Incremental() }

// Checkpoint implements erp.Source: both tables' high-water marks.
func (s *relatedSource) Checkpoint(ctx context.Context) (erp.Position, error) {
	m, err := s.Source.Checkpoint(ctx)
	if err != nil {
		return "", err
	}
	r, err := s.related.Checkpoint(ctx)
	if err != nil {
		return "", err
	}
	return relatedPosition{Main: m, Related: r}.encode(), nil
}

// Changes implements erp.Source.
func (s *relatedSource) Changes(ctx context.Context, since erp.Position, pageSize int) iter.Seq2[erp.Page, error] {
	return func(yield func(erp.Page, error) bool) {
		pos, err := s.decodePosition(ctx, since)
		if err != nil {
			yield(erp.Page{}, err)
			return
		}
		for page, err := range s.Source.Changes(ctx, pos.Main, pageSize) {
			if err != nil {
				yield(erp.Page{}, err)
				return
			}
			pos.Main = page.Next
			if !yield(erp.Page{Records: page.Records, Next: pos.encode()}, nil) {
				return
			}
		}
		for page, err := range s.related.Changes(ctx, pos.Related, pageSize) {
			if err != nil {
				yield(erp.Page{}, err)
				return
			}
			owners, err := s.ownersOf(ctx, page.Records)
			if err != nil {
				yield(erp.Page{}, err)
				return
			}
			pos.Related = page.Next
			if !yield(erp.Page{Records: owners, Next: pos.encode()}, nil) {
				return
			}
		}
	}
}

// ownersPerValue bounds the main rows read per value (deleted versions of
// an order or contact number included); a value with more is looked for
// alone, its live row first.
const ownersPerValue = 20

// ownersOf reads the main rows of changed related rows, each once, in the
// order of the related rows, chosen as Lookup chooses (a live row over a
// deleted one, then the newest).
func (s *relatedSource) ownersOf(ctx context.Context, related []erp.Record) ([]erp.Record, error) {
	values := make([]string, len(related))
	for i, r := range related {
		values[i] = str(r, s.relatedColumn)
	}
	values = distinct(values)
	if len(values) == 0 {
		return nil, nil
	}
	byValue := map[string]erp.Record{}
	take := func(rows []erp.Record) {
		for _, r := range rows {
			v := strings.ToUpper(strings.TrimSpace(str(r, s.column)))
			if prev, ok := byValue[v]; !ok || preferred(r, prev) {
				byValue[v] = r
			}
		}
	}
	for chunk := range slices.Chunk(values, pageChunk) {
		limit := ownersPerValue * len(chunk)
		rows, err := s.Source.Find(ctx, []erp.Match{erp.AnyOf(s.column, chunk)}, limit)
		if err != nil {
			return nil, fmt.Errorf("reading the rows of changed %s: %w", s.relatedColumn, err)
		}
		take(rows)
		if len(rows) < limit {
			continue
		}
		// Cut short: the live rows may be among those left out.
		for _, v := range chunk {
			rows, err := s.Source.Find(ctx, []erp.Match{{Column: s.column, Value: v}}, pageRowsLimit)
			if err != nil {
				return nil, fmt.Errorf("reading the rows of changed %s: %w", s.relatedColumn, err)
			}
			take(rows)
		}
	}
	out := make([]erp.Record, 0, len(byValue))
	for _, v := range values {
		if r, ok := byValue[strings.ToUpper(v)]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// Close implements erp.Source.
func (s *relatedSource) Close() error {
	return errors.Join(s.Source.Close(), s.related.Close())
}
