package restsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// Page size bounds of the read routes.
const (
	DefaultPageSize = 20
	MaxPageSize     = 1000
	// readChunk is the page size the simulator reads the database with.
	readChunk = 500
)

// envelope is the TOTVS list answer.
type envelope struct {
	HasNext bool             `json:"hasNext"`
	Items   []map[string]any `json:"items"`
}

// badRequest is a client error answered with 400.
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

func badf(format string, args ...any) error { return badRequest{fmt.Sprintf(format, args...)} }

// listQuery is a parsed read request.
type listQuery struct {
	page, size int
	since      *time.Time
	key        string
	match      []erp.Match
}

func (s *Sim) parseList(r *http.Request, rt *route) (listQuery, error) {
	q := listQuery{page: 1, size: DefaultPageSize}
	cols := map[string]bool{}
	for _, c := range rt.src.Spec().Columns {
		cols[c.Name] = true
	}
	for name, vals := range r.URL.Query() {
		v := vals[0]
		switch name {
		case "page", "pageSize":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return q, badf("%s must be a positive integer, got %q", name, v)
			}
			if name == "page" {
				q.page = n
			} else {
				q.size = min(n, MaxPageSize)
			}
		case "since":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return q, badf("since must be an RFC 3339 time, got %q", v)
			}
			t = t.UTC()
			q.since = &t
		case "key":
			q.key = v
		default:
			col := strings.ToUpper(name)
			if !cols[col] {
				return q, badf("unknown filter %q", name)
			}
			q.match = append(q.match, erp.Match{Column: col, Value: v})
		}
	}
	return q, nil
}

func (s *Sim) list(w http.ResponseWriter, r *http.Request, name string) {
	rt, ok := s.routes[name]
	if !ok {
		writeError(w, http.StatusNotFound, "route unavailable", name+": "+s.unavailable[name])
		return
	}
	q, err := s.parseList(r, rt)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid request", err.Error())
		return
	}
	recs, more, err := s.window(r.Context(), rt, q)
	if bad := (badRequest{}); errors.As(err, &bad) {
		writeError(w, http.StatusBadRequest, "invalid request", bad.msg)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "reading "+rt.alias, err.Error())
		return
	}
	items, err := s.items(r.Context(), rt, recs)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "reading "+rt.alias, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, envelope{HasNext: more, Items: items})
}

func (s *Sim) one(w http.ResponseWriter, r *http.Request, name string) {
	rt, ok := s.routes[name]
	if !ok {
		writeError(w, http.StatusNotFound, "route unavailable", name+": "+s.unavailable[name])
		return
	}
	key := r.PathValue("key")
	rec, found, err := rt.src.Lookup(r.Context(), key)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "reading "+rt.alias, err.Error())
		return
	}
	if !found {
		writeError(w, http.StatusNotFound, "not found", fmt.Sprintf("%s %q does not exist", rt.alias, key))
		return
	}
	it, err := s.item(r.Context(), rt, rec)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "reading "+rt.alias, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, it)
}

// window reads the records of one page of a list request through the
// sqlerp source, and whether more follow.
func (s *Sim) window(ctx context.Context, rt *route, q listQuery) ([]erp.Record, bool, error) {
	skip, want := (q.page-1)*q.size, q.size+1 // one extra tells hasNext
	var all []erp.Record
	switch {
	case q.key != "":
		rec, ok, err := rt.src.Lookup(ctx, q.key)
		if err != nil || !ok || (q.since != nil && (rec.Stamp == nil || rec.Stamp.Before(*q.since))) {
			return nil, false, err // with since, only a row stamped at or after it
		}
		all = []erp.Record{rec}
	case len(q.match) > 0 && q.since != nil:
		// Changes in stamp order, filtered: a filter read in record order
		// and cut at one page would miss changes further down the table.
		if !rt.src.Incremental() {
			return nil, false, badf("%s has no change stamp", rt.alias)
		}
		return collect(filtered(rt.src.Changes(ctx, sqlerp.StampPosition(*q.since, 0), readChunk), q.match), skip, want)
	case len(q.match) > 0:
		recs, err := rt.src.Find(ctx, q.match, skip+want)
		if err != nil {
			return nil, false, err
		}
		all = recs
	case q.since != nil:
		if !rt.src.Incremental() {
			return nil, false, badf("%s has no change stamp", rt.alias)
		}
		return collect(rt.src.Changes(ctx, sqlerp.StampPosition(*q.since, 0), readChunk), skip, want)
	default:
		return collect(rt.src.FullPass(ctx, "", readChunk), skip, want)
	}
	if skip >= len(all) {
		return nil, false, nil
	}
	all = all[skip:]
	if len(all) > q.size {
		return all[:q.size], true, nil
	}
	return all, false, nil
}

// filtered keeps the records of seq whose columns equal the matches
// (compared right-trimmed, as CHAR columns compare in SQL).
func filtered(seq iter.Seq2[erp.Page, error], match []erp.Match) iter.Seq2[erp.Page, error] {
	return func(yield func(erp.Page, error) bool) {
		for page, err := range seq {
			if err != nil {
				yield(page, err)
				return
			}
			kept := page.Records[:0:0]
			for _, rec := range page.Records {
				ok := true
				for _, m := range match {
					v, has := rec.Fields[strings.ToUpper(m.Column)]
					if s, isText := v.(string); !has || (isText && strings.TrimRight(s, " ") != strings.TrimRight(m.Value, " ")) ||
						(!isText && fmt.Sprint(v) != m.Value) {
						ok = false
						break
					}
				}
				if ok {
					kept = append(kept, rec)
				}
			}
			if !yield(erp.Page{Records: kept, Next: page.Next}, nil) {
				return
			}
		}
	}
}

// collect skips skip records of seq and returns the next want-1, and
// whether one more exists.
func collect(seq iter.Seq2[erp.Page, error], skip, want int) ([]erp.Record, bool, error) {
	var out []erp.Record
	seen := 0
	for page, err := range seq {
		if err != nil {
			return nil, false, err
		}
		for _, rec := range page.Records {
			if seen >= skip {
				out = append(out, rec)
			}
			seen++
			if len(out) == want {
				return out[:want-1], true, nil
			}
		}
	}
	return out, false, nil
}

// item renders a record as a JSON object.
func (s *Sim) item(ctx context.Context, rt *route, rec erp.Record) (map[string]any, error) {
	it := make(map[string]any, len(rec.Fields)+4)
	for k, v := range rec.Fields {
		it[k] = jsonValue(v)
	}
	for _, b := range rec.BadValues {
		if !b.Null { // what the table holds, as the AppServer would send it
			it[b.Column] = toUTF8(b.Value)
		}
	}
	it[protheus.RecnoColumn] = rec.Recno
	it[protheus.DeletedColumn] = " "
	if rec.Deleted {
		it[protheus.DeletedColumn] = protheus.Deleted
	}
	it[protheus.StampColumn] = nil
	if rec.Stamp != nil {
		it[protheus.StampColumn] = rec.Stamp.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if rt.embed != nil {
		if err := rt.embed(ctx, it); err != nil {
			return nil, err
		}
	}
	return it, nil
}

// items renders records as JSON objects.
func (s *Sim) items(ctx context.Context, rt *route, recs []erp.Record) ([]map[string]any, error) {
	out := make([]map[string]any, 0, len(recs))
	for _, rec := range recs {
		it, err := s.item(ctx, rt, rec)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// jsonValue renders an erp.Value: decimals as exact JSON numbers, dates
// as YYYYMMDD, Latin-1 text as UTF-8 (as the AppServer transcodes).
func jsonValue(v erp.Value) any {
	switch x := v.(type) {
	case string:
		return toUTF8(x)
	case decimal.Decimal:
		return json.Number(x.String())
	case time.Time:
		return x.Format("20060102")
	}
	return v
}

func toUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i])) // Latin-1: byte = code point
	}
	return b.String()
}

// wireEmbeds attaches related rows to contacts, products and orders.
func (s *Sim) wireEmbeds() {
	if rt, links := s.routes["contacts"], s.routes["contactLinks"]; rt != nil && links != nil {
		rt.embed = func(ctx context.Context, it map[string]any) error {
			code, _ := it["U5_CODCONT"].(string)
			recs, err := links.src.Find(ctx, protheus.LinksOfContact(code), MaxPageSize)
			if err != nil {
				return fmt.Errorf("reading links of contact %s: %w", code, err)
			}
			it["links"], err = s.items(ctx, links, recs)
			return err
		}
	}
	if rt, prices := s.routes["products"], s.routes["prices"]; rt != nil && prices != nil {
		rt.embed = func(ctx context.Context, it map[string]any) error {
			code, _ := it["B1_COD"].(string)
			recs, err := prices.src.Find(ctx, protheus.PriceOf(s.opts.PriceTable, code), 10)
			if err != nil {
				return fmt.Errorf("reading price of %s: %w", code, err)
			}
			it["DA1_PRCVEN"] = nil
			for _, rec := range recs {
				if !rec.Deleted {
					it["DA1_PRCVEN"] = jsonValue(rec.Fields["DA1_PRCVEN"])
					if b, bad := rec.Bad("DA1_PRCVEN"); bad && !b.Null {
						it["DA1_PRCVEN"] = toUTF8(b.Value) // as the table holds it
					}
					break
				}
			}
			return nil
		}
	}
	if rt, items := s.routes["orders"], s.routes["orderItems"]; rt != nil && items != nil {
		rt.embed = func(ctx context.Context, it map[string]any) error {
			num, _ := it["C5_NUM"].(string)
			recs, err := items.src.Find(ctx, protheus.ItemsOf(num), protheus.MaxOrderItems)
			if err != nil {
				return fmt.Errorf("reading items of order %s: %w", num, err)
			}
			it["items"], err = s.items(ctx, items, recs)
			return err
		}
	}
}

// ErrorBody is the Protheus REST error answer (SetRestFault).
type ErrorBody struct {
	ErrorCode       int    `json:"errorCode"`
	ErrorMessage    string `json:"errorMessage"`
	DetailedMessage string `json:"detailedMessage,omitempty"`
}

func writeError(w http.ResponseWriter, status int, msg, detail string) {
	writeJSON(w, status, ErrorBody{ErrorCode: status, ErrorMessage: msg, DetailedMessage: detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
