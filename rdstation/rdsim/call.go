package rdsim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// call is one authenticated API request being handled.
type call struct {
	s    *Sim
	d    *data // valid while the handler holds s.mu
	w    http.ResponseWriter
	r    *http.Request
	q    url.Values
	user string
	now  time.Time
	sw   Switches
}

// handler is an API route handler; it runs with s.mu held (read lock for
// GET, write lock otherwise).
type handler func(c *call)

// handle registers an API route.
func (s *Sim) handle(pattern string, h handler) {
	write := !strings.HasPrefix(pattern, "GET ")
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		user, _ := r.Context().Value(callKey{}).(string)
		c := &call{s: s, w: w, r: r, q: r.URL.Query(), user: user, now: s.clock.Now(), sw: s.Switches()}
		if write {
			s.mu.Lock()
			defer s.mu.Unlock()
		} else {
			s.mu.RLock()
			defer s.mu.RUnlock()
		}
		c.d = s.d
		h(c)
	})
}

func (c *call) json(status int, v any) { writeJSON(c.w, status, v) }

func (c *call) notFound(what string) {
	c.json(http.StatusNotFound, notFoundBody(what+" not found"))
}

func (c *call) badRequest(msg string) {
	c.json(http.StatusBadRequest, map[string]any{"errors": msg})
}

// failed writes a 422 when f collected errors.
func (c *call) failed(f form) bool {
	if len(f.errs) == 0 {
		return false
	}
	if msg, ok := f.errs[flatMarker]; ok {
		c.json(http.StatusUnprocessableEntity, map[string]any{"errors": map[string]any{"error_type": "ALREADY_TAKEN", "error_message": msg[0]}})
		return true
	}
	c.json(http.StatusUnprocessableEntity, map[string]any{"errors": f.errs})
	return true
}

// createStatus is the status of a successful create per Switches.CreateStatus.
func (c *call) createStatus() int {
	if c.sw.CreateStatus == http.StatusCreated {
		return http.StatusCreated
	}
	return http.StatusOK
}

func (c *call) deleted(v any) {
	if c.sw.DeleteStatus == http.StatusOK {
		c.json(http.StatusOK, v)
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// body decodes the request body. wrapper is the resource key; docWrapped
// says whether the docs send the body wrapped in it.
func (c *call) body(wrapper string, docWrapped bool) (form, bool) {
	m, err := decodeBody(c.r)
	if err != nil {
		c.badRequest("Malformed request body: " + err.Error())
		return form{}, false
	}
	f := form{m: m, errs: verrs{}}
	inner, isObj := m[wrapper].(map[string]any)
	switch {
	case docWrapped && isObj:
		f.m = inner
	case docWrapped && c.sw.StrictBodies:
		c.badRequest("param is missing or the value is empty: " + wrapper)
		return form{}, false
	case !docWrapped && isObj && !c.sw.StrictBodies:
		f.m = inner
	}
	return f, true
}

// duplicateName records the duplicate-name error in the switch's shape.
func (c *call) duplicateName(f form, field string) {
	switch c.sw.DuplicateNameBody {
	case "typed":
		f.errs.typed(field, "ALREADY_TAKEN", msgTaken)
	case "flat":
		f.errs[flatMarker] = []any{"Name " + msgTaken}
	default:
		f.errs.add(field, msgTaken)
	}
}

// flatMarker in verrs asks failed() for the "flat" duplicate-name body.
const flatMarker = "\x00flat"

// --- listings ---

// MaxListLimit is the largest page size; deal_stages use MaxStageLimit.
const (
	MaxListLimit     = 200
	DefaultListLimit = 20
	MaxStageLimit    = 12
	// ListingCap is how many records of a deals/organizations/contacts
	// listing are reachable.
	ListingCap = 10000
)

type paging struct{ page, limit int }

func (p paging) offset() int { return (p.page - 1) * p.limit }

// paging reads page and limit; over max it clamps or answers 422.
func (c *call) paging(def, maxLimit int) (paging, bool) {
	p := paging{page: 1, limit: def}
	if n, err := strconv.Atoi(c.q.Get("page")); err == nil && n > 0 {
		p.page = n
	}
	if n, err := strconv.Atoi(c.q.Get("limit")); err == nil && n > 0 {
		p.limit = n
	}
	if p.limit > maxLimit {
		if c.sw.LimitOverMaxIs422 {
			c.json(http.StatusUnprocessableEntity, map[string]any{"errors": verrs{"limit": {fmt.Sprintf("must be less than or equal to %d", maxLimit)}}})
			return p, false
		}
		p.limit = maxLimit
	}
	return p, true
}

// pageOf cuts one page out of items; capped listings stop at ListingCap.
func pageOf[T any](items []T, p paging, capped bool) ([]T, bool) {
	reachable := len(items)
	if capped {
		reachable = min(reachable, ListingCap)
	}
	off := p.offset()
	if off >= reachable || off < 0 {
		return []T{}, false
	}
	end := min(off+p.limit, reachable)
	return items[off:end], end < len(items)
}

// envelope writes {"<plural>":[…],"has_more":…,"total":…}.
func (c *call) envelope(plural string, items []any, hasMore bool, total int) {
	c.json(http.StatusOK, map[string]any{plural: items, "has_more": hasMore, "total": total})
}

// orderAndDirection reads order/direction with defaults; ok=false for an
// unknown order value.
func (c *call) orderAndDirection(defOrder, defDir string, allowed ...string) (string, bool, bool) {
	order := c.q.Get("order")
	ok := true
	if order == "" {
		order = defOrder
	} else if !slices.Contains(allowed, order) {
		order, ok = defOrder, false
	}
	dir := strings.ToLower(c.q.Get("direction"))
	if dir != "asc" && dir != "desc" {
		dir = defDir
	}
	return order, dir == "desc", ok
}

// sortStable sorts by key with ties in insertion order; desc reverses the
// whole order, so ties come newest-inserted first.
func sortStable[T any](items []*T, desc bool, key func(a, b *T) int) {
	slices.SortStableFunc(items, key)
	if desc {
		slices.Reverse(items)
	}
}

// sortStableFold is sortStable by cmpFold of name, lowering each name once
// instead of twice per comparison (a listing sorts every record it matched).
func sortStableFold[T any](items []*T, desc bool, name func(*T) string) {
	type keyed struct {
		key string
		v   *T
	}
	ks := make([]keyed, len(items))
	for i, v := range items {
		ks[i] = keyed{strings.ToLower(name(v)), v}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return cmp.Compare(a.key, b.key) })
	for i, k := range ks {
		items[i] = k.v
	}
	if desc {
		slices.Reverse(items)
	}
}

func cmpFold(a, b string) int { return cmp.Compare(strings.ToLower(a), strings.ToLower(b)) }

func cmpTime(a, b time.Time) int { return a.Compare(b) }

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// --- rendering ---

// accountZone is the account's UTC offset (-03:00) used in timestamps.
var accountZone = time.FixedZone("-03", -3*60*60)

const tsLayout = "2006-01-02T15:04:05.000-07:00"

func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.In(accountZone).Format(tsLayout)
}

func tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

// money renders an exact decimal as a JSON number.
func money(d decimal.Decimal) json.Number { return json.Number(d.String()) }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func boolPtrJSON(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

type obj = map[string]any
