package streams

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/erpbridge/erpbridge/erp"
)

// PageRows holds related rows of one page of records, read at once: the
// rows of a table whose column equals each record's value (an order's SC6
// items, a product's DA1 prices, a contact's AC8 links), grouped by that
// value in record order, as a per-record Find returns them.
type PageRows struct {
	mu   sync.Mutex
	rows map[string][]erp.Record // value → rows; present = read whole
}

// PageChunk is how many values one prepared query asks for; PageRowsLimit
// bounds the rows it returns: a chunk with more is left to per-record reads.
const (
	PageChunk     = 200
	PageRowsLimit = 20000
)

// Prepare reads the rows of src matching fixed and column ∈ values, each
// value's rows cut at perValue, the limit the per-record read uses, so
// both give the same rows. Values compare without regard to case (a
// case-insensitive collation answers in the stored case; Protheus codes
// are upper case). A failed or overfull chunk is left out: its records
// read their own. Called with no values, it forgets the last page.
func (p *PageRows) Prepare(ctx context.Context, src erp.Source, fixed []erp.Match, column string, values []string, perValue int) {
	got := map[string][]erp.Record{}
	for chunk := range slices.Chunk(Distinct(values), PageChunk) {
		match := append(slices.Clone(fixed), erp.AnyOf(column, chunk))
		rows, err := src.Find(ctx, match, PageRowsLimit)
		if err != nil || len(rows) == PageRowsLimit {
			continue
		}
		for _, v := range chunk {
			got[strings.ToUpper(v)] = []erp.Record{}
		}
		for _, r := range rows {
			v := strings.ToUpper(strings.TrimSpace(Str(r, column)))
			if len(got[v]) < perValue {
				got[v] = append(got[v], r)
			}
		}
	}
	p.mu.Lock()
	p.rows = got
	p.mu.Unlock()
}

// Find returns the rows of value, from the prepared page when it has them,
// else through the Find the caller gives.
func (p *PageRows) Find(value string, read func() ([]erp.Record, error)) ([]erp.Record, error) {
	p.mu.Lock()
	rows, ok := p.rows[strings.ToUpper(strings.TrimSpace(value))]
	p.mu.Unlock()
	if ok {
		return rows, nil
	}
	return read()
}

// Preferred reports whether a should be read rather than b for the same
// key, as Source.Lookup chooses: a live row over a deleted one, then the
// highest record number.
func Preferred(a, b erp.Record) bool {
	if a.Deleted != b.Deleted {
		return !a.Deleted
	}
	return a.Recno > b.Recno
}

// Distinct returns the non-blank values, trimmed, once each, in order.
func Distinct(values []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
