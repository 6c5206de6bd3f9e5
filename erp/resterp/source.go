package resterp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
)

// Why "since = last stamp − overlap" and page numbers are safe here (see
// sqlerp for the SQL side): the route answers items with a stamp at or
// after since, oldest first. A row changed while a poll pages moves to the
// end with its new stamp, so a page boundary shifting under it delays the
// row to a later page or poll but never loses it. Every poll re-reads the
// overlap; the engine's fingerprints make re-read rows free. Rows without a
// stamp are read by FullPass.

// Source reads one RouteSpec. It implements erp.Source.
type Source struct {
	spec RouteSpec
	c    *client
	now  func() time.Time
}

var _ erp.Source = (*Source)(nil)

// NewSource validates spec and returns a Source for it. It sends nothing.
func NewSource(spec RouteSpec) (*Source, error) {
	spec, err := spec.withDefaults()
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	return &Source{spec: spec, c: &client{spec: spec, http: hc}, now: time.Now}, nil
}

// Spec returns the route spec with its defaults filled in.
func (s *Source) Spec() RouteSpec { return s.spec }

// Incremental implements erp.Source: the route has a since parameter and
// a stamp field.
func (s *Source) Incremental() bool { return s.spec.SinceParam != "" && s.spec.StampField != "" }

// Close implements erp.Source.
func (s *Source) Close() error {
	s.c.http.CloseIdleConnections()
	return nil
}

// position is what an erp.Position holds for resterp, as JSON:
// {"stamp":"…","key":"…"} for Changes (the newest stamp read, the key as
// tie-breaker) and {"page":3} (pages read so far) for FullPass.
type position struct {
	Stamp *time.Time `json:"stamp,omitempty"`
	Key   string     `json:"key,omitempty"`
	Page  int        `json:"page,omitempty"`
}

func (p position) encode() erp.Position {
	b, _ := json.Marshal(p) // a time, a string and an int always marshal
	return erp.Position(b)
}

func decodePosition(p erp.Position) (position, error) {
	var out position
	if p == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(p), &out); err != nil {
		return position{}, fmt.Errorf("decoding position %q: %w", string(p), err)
	}
	return out, nil
}

// StampPosition returns the Changes position for a stamp, e.g. to start
// from a known time.
func StampPosition(stamp time.Time) erp.Position {
	u := stamp.UTC()
	return position{Stamp: &u}.encode()
}

// Checkpoint implements erp.Source. A route has no "newest stamp" query,
// so the checkpoint is the ERP server's clock (its Date header, falling
// back to ours): Changes then re-reads Overlap before it, which covers a
// clock skew smaller than the overlap.
func (s *Source) Checkpoint(ctx context.Context) (erp.Position, error) {
	if !s.Incremental() {
		return "", fmt.Errorf("reading %s checkpoint: %w", s.spec.Name, erp.ErrNotIncremental)
	}
	q := url.Values{}
	s.setPage(q, 0, 1)
	_, date, err := s.c.get(ctx, s.spec.Path, q)
	if err != nil {
		return "", fmt.Errorf("reading %s checkpoint: %w", s.spec.Name, err)
	}
	if date.IsZero() {
		date = s.now()
	}
	return StampPosition(date), nil
}

// Changes implements erp.Source.
func (s *Source) Changes(ctx context.Context, since erp.Position, pageSize int) iter.Seq2[erp.Page, error] {
	return func(yield func(erp.Page, error) bool) {
		fail := func(err error) { yield(erp.Page{}, fmt.Errorf("reading %s changes: %w", s.spec.Name, err)) }
		if !s.Incremental() {
			fail(erp.ErrNotIncremental)
			return
		}
		if pageSize <= 0 {
			fail(errors.New("page size must be positive"))
			return
		}
		pos, err := decodePosition(since)
		if err != nil {
			fail(err)
			return
		}
		now := s.now()
		from := erp.PollFrom(pos.Stamp, s.spec.Overlap, now)
		s.pages(ctx, func(q url.Values) { q.Set(s.spec.SinceParam, from.UTC().Format(s.spec.SinceLayout)) }, 0, pageSize,
			func(recs []erp.Record, _ int) erp.Position {
				for _, r := range recs {
					if r.Stamp == nil {
						continue
					}
					if seen := erp.SeenUpTo(*r.Stamp, now); pos.Stamp == nil || !seen.Before(*pos.Stamp) {
						pos = position{Stamp: &seen, Key: r.Key}
					}
				}
				return pos.encode()
			}, yield, fail)
	}
}

// FullPass implements erp.Source. The route's own order (record order on
// a Protheus route) is kept; the Position counts the pages read.
func (s *Source) FullPass(ctx context.Context, after erp.Position, pageSize int) iter.Seq2[erp.Page, error] {
	return func(yield func(erp.Page, error) bool) {
		fail := func(err error) { yield(erp.Page{}, fmt.Errorf("reading %s full pass: %w", s.spec.Name, err)) }
		if pageSize <= 0 {
			fail(errors.New("page size must be positive"))
			return
		}
		pos, err := decodePosition(after)
		if err != nil {
			fail(err)
			return
		}
		s.pages(ctx, nil, pos.Page, pageSize, func(_ []erp.Record, read int) erp.Position {
			return position{Page: read}.encode()
		}, yield, fail)
	}
}

// pages reads the list route page after page, starting after skip pages,
// until a short or last page.
func (s *Source) pages(ctx context.Context, filter func(url.Values), skip, pageSize int,
	next func(recs []erp.Record, read int) erp.Position, yield func(erp.Page, error) bool, fail func(error)) {
	prevFirst := ""
	for n := skip; ; n++ {
		q := url.Values{}
		if filter != nil {
			filter(q)
		}
		s.setPage(q, n, pageSize)
		recs, more, err := s.list(ctx, s.spec.Path, q, pageSize)
		if err != nil {
			fail(err)
			return
		}
		if len(recs) == 0 {
			return
		}
		if first := recs[0].Key + "\x00" + strconv.Itoa(len(recs)); first == prevFirst {
			fail(fmt.Errorf("page %d repeats the previous page: does the route honour %q?", n+s.spec.FirstPage, s.pageParamName()))
			return
		} else {
			prevFirst = first
		}
		if !yield(erp.Page{Records: recs, Next: next(recs, n+1)}, nil) || !more {
			return
		}
	}
}

func (s *Source) pageParamName() string {
	if s.spec.OffsetParam != "" {
		return s.spec.OffsetParam
	}
	return s.spec.PageParam
}

// setPage sets the paging parameters of the n-th page (0-based).
func (s *Source) setPage(q url.Values, n, pageSize int) {
	if s.spec.OffsetParam != "" {
		q.Set(s.spec.OffsetParam, strconv.Itoa(s.spec.FirstPage+n*pageSize))
	} else {
		q.Set(s.spec.PageParam, strconv.Itoa(s.spec.FirstPage+n))
	}
	q.Set(s.spec.PageSizeParam, strconv.Itoa(pageSize))
}

// list GETs one page and converts its items; more reports whether another
// page may follow.
func (s *Source) list(ctx context.Context, path string, q url.Values, pageSize int) (recs []erp.Record, more bool, err error) {
	body, _, err := s.c.get(ctx, path, q)
	if err != nil {
		return nil, false, err
	}
	items, err := s.items(body)
	if err != nil {
		return nil, false, err
	}
	recs, err = s.records(items)
	if err != nil {
		return nil, false, err
	}
	if s.spec.HasNextPath == "" {
		return recs, len(items) >= pageSize, nil
	}
	flag, _ := jsonPath(body, s.spec.HasNextPath)
	switch v := flag.(type) {
	case bool:
		return recs, v, nil
	case string:
		return recs, strings.EqualFold(v, "true"), nil
	}
	return recs, false, nil
}

// items finds the item list in a body.
func (s *Source) items(body any) ([]any, error) {
	v, ok := jsonPath(body, s.spec.ItemsPath)
	if !ok {
		return nil, fmt.Errorf("reading items: no %q in the answer", s.spec.ItemsPath)
	}
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("reading items: %q is a JSON %s, not an array", s.spec.ItemsPath, jsonKind(v))
	}
	return list, nil
}

func (s *Source) records(items []any) ([]erp.Record, error) {
	recs := make([]erp.Record, 0, len(items))
	for i, it := range items {
		rec, err := s.record(it)
		if err != nil {
			return nil, fmt.Errorf("reading item %d: %w", i, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// record converts one item.
func (s *Source) record(item any) (erp.Record, error) {
	obj, ok := item.(map[string]any)
	if !ok {
		return erp.Record{}, fmt.Errorf("a JSON %s is not an object", jsonKind(item))
	}
	rec := erp.Record{}
	if s.spec.Fields == nil {
		control := map[string]bool{strings.ToUpper(s.spec.StampField): true, strings.ToUpper(s.spec.RecnoField): true, strings.ToUpper(s.spec.DeletedField): true}
		rec.Fields = make(map[string]erp.Value, len(obj))
		for k, raw := range obj {
			name := strings.ToUpper(k)
			if control[name] {
				continue
			}
			if v, ok := inferred(raw); ok {
				rec.Fields[name] = v
			}
		}
	} else {
		rec.Fields = make(map[string]erp.Value, len(s.spec.Fields))
		for _, f := range s.spec.Fields {
			raw, _ := jsonPath(obj, f.Path)
			v, bad := convert(f, raw)
			if bad != nil {
				// One bad value is its record's problem, not the page's.
				rec.BadValues = append(rec.BadValues, *bad)
			}
			rec.Fields[f.Name] = v
		}
	}
	keys := make([]erp.Value, len(s.spec.KeyFields))
	for i, k := range s.spec.KeyFields {
		v, ok := rec.Fields[k]
		if !ok {
			return erp.Record{}, fmt.Errorf("reading key: no field %s", k)
		}
		keys[i] = v
	}
	if s.spec.RecnoField != "" {
		raw, _ := jsonPath(obj, s.spec.RecnoField)
		if t := text(raw); t != "" {
			n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
			if err != nil {
				return erp.Record{}, fmt.Errorf("reading record number %q: %w", t, err)
			}
			rec.Recno = n
		}
	}
	if s.spec.DeletedField != "" {
		raw, _ := jsonPath(obj, s.spec.DeletedField)
		rec.Deleted = strings.TrimSpace(text(raw)) == s.spec.DeletedValue
	}
	if s.spec.StampField != "" {
		raw, _ := jsonPath(obj, s.spec.StampField)
		st, err := parseStamp(raw)
		if err != nil {
			return erp.Record{}, err
		}
		rec.Stamp = st
	}
	rec.SetKey(s.spec.KeyFields, keys, s.spec.FilialField)
	return rec, nil
}

// Lookup implements erp.Source: by LookupPath, KeyParam or the key fields
// as filters, in that order of preference. A live row wins over a deleted
// one with the same key.
func (s *Source) Lookup(ctx context.Context, key string) (erp.Record, bool, error) {
	fail := func(err error) (erp.Record, bool, error) {
		return erp.Record{}, false, fmt.Errorf("looking up %s %q: %w", s.spec.Name, key, err)
	}
	parts := erp.SplitKey(key)
	if len(parts) != len(s.spec.KeyFields) {
		return fail(fmt.Errorf("want %d key parts, got %d", len(s.spec.KeyFields), len(parts)))
	}
	path, q := s.spec.Path, url.Values{}
	switch {
	case s.spec.LookupPath != "":
		path = s.spec.LookupPath
		path = strings.ReplaceAll(path, "{key}", url.PathEscape(key))
		for i, k := range s.spec.KeyFields {
			path = strings.ReplaceAll(path, "{"+k+"}", url.PathEscape(parts[i]))
		}
	case s.spec.KeyParam != "":
		q.Set(s.spec.KeyParam, key)
	default:
		for i, k := range s.spec.KeyFields {
			q.Set(k, parts[i])
		}
	}
	if s.spec.LookupPath == "" {
		s.setPage(q, 0, lookupPageSize)
	}
	body, _, err := s.c.get(ctx, path, q)
	if errors.Is(err, ErrNotFound) && s.spec.LookupPath != "" {
		return erp.Record{}, false, nil
	}
	if err != nil {
		return fail(err)
	}
	items, err := s.items(body)
	if err != nil {
		if _, isObject := body.(map[string]any); !isObject || s.spec.LookupPath == "" {
			return fail(err)
		}
		items = []any{body} // a path route answering the item itself
	}
	recs, err := s.records(items)
	if err != nil {
		return fail(err)
	}
	var found erp.Record
	ok := false
	for _, r := range recs {
		if r.Key != key {
			continue // a route that ignores the filter must not answer for another key
		}
		if !ok || (found.Deleted && !r.Deleted) {
			found, ok = r, true
		}
	}
	return found, ok, nil
}

// Find implements erp.Source: each match is sent as a query parameter
// (column=value) and checked again on the answer, in the route's order.
func (s *Source) Find(ctx context.Context, match []erp.Match, limit int) ([]erp.Record, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("finding rows in %s: limit must be positive", s.spec.Name)
	}
	// A list of values: routes filter by one value per column, so ask for
	// each value in turn.
	for i, m := range match {
		if m.Values == nil {
			continue
		}
		var out []erp.Record
		for _, v := range m.Values {
			one := slices.Clone(match)
			one[i] = erp.Match{Column: m.Column, Value: v}
			recs, err := s.Find(ctx, one, limit-len(out))
			if err != nil {
				return nil, err
			}
			if out = append(out, recs...); len(out) >= limit {
				break
			}
		}
		return out, nil
	}
	var out []erp.Record
	for n := 0; len(out) < limit && n < maxFindPages; n++ {
		q := url.Values{}
		for _, m := range match {
			q.Set(strings.ToUpper(m.Column), m.Value)
		}
		s.setPage(q, n, limit)
		recs, more, err := s.list(ctx, s.spec.Path, q, limit)
		if err != nil {
			return nil, fmt.Errorf("finding rows in %s: %w", s.spec.Name, err)
		}
		for _, r := range recs {
			if matches(r, match) && len(out) < limit {
				out = append(out, r)
			}
		}
		if !more || len(recs) == 0 {
			break
		}
	}
	return out, nil
}

// keyText renders a field value as the text a match compares by.
func keyText(v erp.Value) string {
	switch x := v.(type) {
	case string:
		return x
	case decimal.Decimal:
		return x.String()
	case int64:
		return strconv.FormatInt(x, 10)
	case time.Time:
		return x.Format("20060102")
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

func matches(r erp.Record, match []erp.Match) bool {
	for _, m := range match {
		v, ok := r.Fields[strings.ToUpper(m.Column)]
		if !ok || keyText(v) != strings.TrimRight(m.Value, " ") {
			return false
		}
	}
	return true
}

// lookupPageSize is the page a filtered Lookup asks for: room for the
// deleted versions of a key besides the live one.
const lookupPageSize = 20

// maxFindPages bounds Find on a route that ignores its filters.
const maxFindPages = 100
