package streams

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/erpbridge/erpbridge/erp"
)

// Related reads a table and takes a change of a related row as a
// change of the rows whose payload reads it: an SC6 item changes its SC5
// order (a partial delivery writes only SC6), an AC8 Link changes its SU5
// contact (a contact linked to a customer after it was synced), an SA1
// customer changes its orders (their deal names embed its name) and the
// contacts linked to it (their organization). Without it such a change
// would wait for the nightly full pass. Polls read the rows changed since
// the cursor, then, for each Relation, the related rows changed since its
// own position, each followed to the rows it belongs to, page by page.
// Full passes, look-ups and finds are the main table's.
type Related struct {
	erp.Source // the main table (SC5, SU5)
	relations  []Relation
}

var _ erp.Source = (*Related)(nil)

// NewRelated returns main with the relations followed on every poll.
func NewRelated(main erp.Source, relations ...Relation) *Related {
	return &Related{Source: main, relations: relations}
}

// NewRelation returns the relation named name (its key in the cursor: the
// related table's alias) from src's changed rows through links to the main
// table's rows; a change of only the ignore columns of src changes nothing.
func NewRelation(name string, src erp.Source, ignore []string, links ...Link) Relation {
	return Relation{name: name, src: src, links: links, ignore: ignore, seen: &digests{}}
}

// Relations returns the relations followed.
func (s *Related) Relations() []Relation { return s.relations }

// Name is the relation's key in the cursor.
func (r Relation) Name() string { return r.name }

// Source is the related table.
func (r Relation) Source() erp.Source { return r.src }

// Follow hands on, a page of at most pageSize at a time, the main table's
// rows that rows of the related table lead to; yield returning false stops.
func (r Relation) Follow(ctx context.Context, rows []erp.Record, pageSize int, yield func([]erp.Record) bool) error {
	return follow(ctx, rows, r.links, pageSize, yield)
}

// Relation leads from the changed rows of a related table, through links,
// to the main table's rows (the last Link's table).
type Relation struct {
	name  string     // its key in the cursor (the related table's alias)
	src   erp.Source // the related table whose changes are read
	links []Link
	// ignore names columns of src whose change alone changes nothing the
	// main rows read (SA1's invoicing statistics, rewritten all day).
	ignore []string
	// seen remembers what each related row was when last followed, so a
	// row read again unchanged (the poll's overlap, a statistics rewrite)
	// does not re-read its main rows.
	seen *digests
}

// Link leads from rows of one table to the rows of the next (to). Either
// each row has one row there, whose column equals its from (read for a
// page of rows at once, chosen as Lookup chooses), or match gives the
// conditions that find a row's many rows there (a customer's orders),
// read page by page.
type Link struct {
	to           erp.Source
	from, column string
	match        func(erp.Record) []erp.Match
}

// ByColumn links rows to the one row of to whose column equals their from.
func ByColumn(to erp.Source, from, column string) Link {
	return Link{to: to, from: from, column: column}
}

// ByMatch links rows to the many rows of to that match gives.
func ByMatch(to erp.Source, match func(erp.Record) []erp.Match) Link {
	return Link{to: to, match: match}
}

// relatedPosition is the poll cursor: one position per table. Related is
// the first Relation's (the only one of earlier versions); Others are the
// rest, by name.
type relatedPosition struct {
	Main    erp.Position            `json:"main"`
	Related erp.Position            `json:"related"`
	Others  map[string]erp.Position `json:"others,omitempty"`
}

func (p relatedPosition) encode() erp.Position {
	b, _ := json.Marshal(p)
	return erp.Position(b)
}

// of returns Relation i's position; a Relation the cursor lacks (added by
// an upgrade) starts where the main table stands: positions of one source
// kind share their format (a stamp), so its rows changed since the last
// poll are read too.
func (p relatedPosition) of(i int, name string) erp.Position {
	if i == 0 {
		return p.Related
	}
	if pos, ok := p.Others[name]; ok {
		return pos
	}
	return p.Main
}

func (p *relatedPosition) set(i int, name string, pos erp.Position) {
	if i == 0 {
		p.Related = pos
		return
	}
	p.Others = maps.Clone(p.Others)
	if p.Others == nil {
		p.Others = map[string]erp.Position{}
	}
	p.Others[name] = pos
}

// decodePosition reads a cursor. A cursor of the main table alone (from
// a version that did not follow related rows) starts every table there.
func (s *Related) decodePosition(_ context.Context, p erp.Position) (relatedPosition, error) {
	var rp relatedPosition
	if strings.HasPrefix(string(p), `{"main"`) {
		if err := json.Unmarshal([]byte(p), &rp); err != nil {
			return rp, fmt.Errorf("reading the cursor %q: %w", p, err)
		}
		return rp, nil
	}
	return relatedPosition{Main: p, Related: p}, nil
}

var _ erp.Counter = (*Related)(nil)

// errNotCounted: a poll also reads the rows the related tables' changes
// lead to, which no single count tells.
var errNotCounted = errors.New("a poll following related tables is not counted ahead")

// CountChanges implements erp.Counter: not known ahead (errNotCounted).
func (s *Related) CountChanges(context.Context, erp.Position) (int64, error) {
	return 0, errNotCounted
}

// CountFullPass implements erp.Counter: a full pass is the main table's.
func (s *Related) CountFullPass(ctx context.Context, after erp.Position) (int64, error) {
	c, ok := s.Source.(erp.Counter)
	if !ok {
		return 0, errNotCounted
	}
	return c.CountFullPass(ctx, after)
}

// Incremental implements erp.Source: polls need every table's stamp.
func (s *Related) Incremental() bool {
	for _, r := range s.relations {
		if !r.src.Incremental() {
			return false
		}
	}
	return s.Source.Incremental()
}

// Checkpoint implements erp.Source: every table's high-water mark.
func (s *Related) Checkpoint(ctx context.Context) (erp.Position, error) {
	m, err := s.Source.Checkpoint(ctx)
	if err != nil {
		return "", err
	}
	pos := relatedPosition{Main: m}
	for i, r := range s.relations {
		cp, err := r.src.Checkpoint(ctx)
		if err != nil {
			return "", err
		}
		pos.set(i, r.name, cp)
	}
	return pos.encode(), nil
}

// Changes implements erp.Source. The rows a page of related changes leads
// to go out in pages of at most pageSize; the Relation's position moves
// past that page only with the last of them, so a stop replays it.
func (s *Related) Changes(ctx context.Context, since erp.Position, pageSize int) iter.Seq2[erp.Page, error] {
	return func(yield func(erp.Page, error) bool) {
		pos, err := s.decodePosition(ctx, since)
		if err != nil {
			yield(erp.Page{}, err)
			return
		}
		for i, r := range s.relations {
			r.seen.confirm(pos.of(i, r.name))
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
		for i, r := range s.relations {
			for page, err := range r.src.Changes(ctx, pos.of(i, r.name), pageSize) {
				if err != nil {
					yield(erp.Page{}, err)
					return
				}
				// Every page but the last keeps the Relation's position: the
				// last carries the new one (an empty page when none).
				changed, batch := r.seen.changed(page.Records, r.ignore)
				var held []erp.Record
				stopped := false
				err := follow(ctx, changed, r.links, pageSize, func(owners []erp.Record) bool {
					if held != nil {
						stopped = !yield(erp.Page{Records: held, Next: pos.encode()}, nil)
					}
					held = owners
					return !stopped
				})
				if err != nil {
					yield(erp.Page{}, fmt.Errorf("following changed %s rows: %w", r.name, err))
					return
				}
				if stopped {
					return
				}
				pos.set(i, r.name, page.Next)
				if !yield(erp.Page{Records: held, Next: pos.encode()}, nil) {
					return
				}
				r.seen.hold(page.Next, batch)
			}
		}
	}
}

// follow takes rows through links and hands the rows of the last table to
// yield, in pages of at most pageSize; it stops when yield returns false.
func follow(ctx context.Context, rows []erp.Record, links []Link, pageSize int, yield func([]erp.Record) bool) error {
	if len(rows) == 0 {
		return nil
	}
	if len(links) == 0 {
		for chunk := range slices.Chunk(rows, pageSize) {
			if !yield(chunk) {
				return nil
			}
		}
		return nil
	}
	l := links[0]
	if l.match == nil {
		next, err := ownersOf(ctx, l, rows)
		if err != nil {
			return err
		}
		return follow(ctx, next, links[1:], pageSize, yield)
	}
	for _, r := range rows {
		more := true
		for page, err := range findPages(ctx, l.to, l.match(r), pageSize) {
			if err != nil {
				return err
			}
			stop := false
			if err := follow(ctx, page, links[1:], pageSize, func(p []erp.Record) bool {
				stop = !yield(p)
				return !stop
			}); err != nil {
				return err
			}
			if stop {
				more = false
				break
			}
		}
		if !more {
			return nil
		}
	}
	return nil
}

// findPages reads the rows of src matching match page by page (a Source
// that cannot page them gives what one Find bounded by PageRowsLimit
// reads).
func findPages(ctx context.Context, src erp.Source, match []erp.Match, pageSize int) iter.Seq2[[]erp.Record, error] {
	if p, ok := src.(erp.MatchPager); ok {
		return p.FindPages(ctx, match, pageSize)
	}
	return func(yield func([]erp.Record, error) bool) {
		rows, err := src.Find(ctx, match, PageRowsLimit)
		if err != nil {
			yield(nil, err)
			return
		}
		for chunk := range slices.Chunk(rows, pageSize) {
			if !yield(chunk, nil) {
				return
			}
		}
	}
}

// ownersPerValue bounds the rows read per value (deleted versions of an
// order or contact number included); a value with more is looked for
// alone, its live row first.
const ownersPerValue = 20

// ownersOf reads the rows of l.to that rows lead to (l.column = their
// l.from), each once, in the order of rows, chosen as Lookup chooses (a
// live row over a deleted one, then the newest).
func ownersOf(ctx context.Context, l Link, rows []erp.Record) ([]erp.Record, error) {
	values := make([]string, len(rows))
	for i, r := range rows {
		values[i] = Str(r, l.from)
	}
	values = Distinct(values)
	if len(values) == 0 {
		return nil, nil
	}
	byValue := map[string]erp.Record{}
	take := func(rows []erp.Record) {
		for _, r := range rows {
			v := strings.ToUpper(strings.TrimSpace(Str(r, l.column)))
			if prev, ok := byValue[v]; !ok || Preferred(r, prev) {
				byValue[v] = r
			}
		}
	}
	for chunk := range slices.Chunk(values, PageChunk) {
		limit := ownersPerValue * len(chunk)
		found, err := l.to.Find(ctx, []erp.Match{erp.AnyOf(l.column, chunk)}, limit)
		if err != nil {
			return nil, fmt.Errorf("reading the rows of changed %s: %w", l.from, err)
		}
		take(found)
		if len(found) < limit {
			continue
		}
		// Cut short: the live rows may be among those left out.
		for _, v := range chunk {
			found, err := l.to.Find(ctx, []erp.Match{{Column: l.column, Value: v}}, PageRowsLimit)
			if err != nil {
				return nil, fmt.Errorf("reading the rows of changed %s: %w", l.from, err)
			}
			take(found)
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

// Close implements erp.Source: every table it reads, once.
func (s *Related) Close() error {
	srcs := []erp.Source{s.Source}
	for _, r := range s.relations {
		srcs = append(srcs, r.src)
		for _, l := range r.links {
			srcs = append(srcs, l.to)
		}
	}
	var errs []error
	for i, src := range srcs {
		if !slices.Contains(srcs[:i], src) {
			errs = append(errs, src.Close())
		}
	}
	return errors.Join(errs...)
}

// digests remember, per related row, a digest of what its main rows read
// of it, for as many rows as maxDigests; past that they start over (every
// row is then followed once more). A row's digest counts only once the
// page that followed it is committed: the cursor the next poll starts from
// has passed it (the engine may read a page ahead of the one it handles,
// and a page that failed is read again). A nil *digests follows every
// change.
type digests struct {
	mu      sync.Mutex
	m       map[string]string
	pending []digestBatch
}

// digestBatch is the digests of one page of related rows, and the
// Relation's position past that page.
type digestBatch struct {
	at         erp.Position
	keys, sums []string
}

const maxDigests = 200000

// changed returns the rows whose digest (without the ignored columns)
// differs from the one remembered, and their digests, to hold once their
// main rows are handed on.
func (d *digests) changed(rows []erp.Record, ignore []string) ([]erp.Record, digestBatch) {
	if d == nil {
		return rows, digestBatch{}
	}
	var b digestBatch
	out := rows[:0:0]
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range rows {
		k, sum := fmt.Sprintf("%s#%d", r.Key, r.Recno), digestOf(r, ignore)
		if d.m[k] != sum {
			out = append(out, r)
			b.keys, b.sums = append(b.keys, k), append(b.sums, sum)
		}
	}
	return out, b
}

// hold keeps a batch until the Relation's position at reaches the cursor.
func (d *digests) hold(at erp.Position, b digestBatch) {
	if d == nil || len(b.keys) == 0 {
		return
	}
	b.at = at
	d.mu.Lock()
	d.pending = append(d.pending, b)
	d.mu.Unlock()
}

// confirm remembers the held batches up to the one whose position is the
// committed cursor's, and drops the rest (their pages are read again).
func (d *digests) confirm(committed erp.Position) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	last := slices.IndexFunc(d.pending, func(b digestBatch) bool { return b.at == committed })
	for _, b := range d.pending[:last+1] {
		if d.m == nil || len(d.m)+len(b.keys) > maxDigests {
			d.m = map[string]string{}
		}
		for i, k := range b.keys {
			d.m[k] = b.sums[i]
		}
	}
	d.pending = nil
}

// digestOf hashes a row's deleted flag and fields, but for ignore.
func digestOf(r erp.Record, ignore []string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%v\x00", r.Deleted)
	for _, k := range slices.Sorted(maps.Keys(r.Fields)) {
		if !slices.Contains(ignore, k) {
			fmt.Fprintf(h, "%s=%v\x00", k, r.Fields[k])
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
