package resterp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// fakeRoute serves n items {"code","name","price","stamp","deleted"} in the
// {"hasNext","items"} envelope, paged by page/pageSize (or offset/limit),
// filtered by since, code and key.
type fakeRoute struct {
	items    []map[string]any
	requests atomic.Int32
	fail     atomic.Int32 // answer 500 this many times
	hang     atomic.Int32 // stall this many requests past the client timeout
	auth     func(*http.Request) bool
	lastURL  atomic.Value
}

func newFake(n int) *fakeRoute {
	f := &fakeRoute{}
	base := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		f.items = append(f.items, map[string]any{
			"code": fmt.Sprintf("%06d  ", i), "name": fmt.Sprintf("CUSTOMER %d   ", i),
			"price": json.Number(fmt.Sprintf("%d.10", i)), "stamp": base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
			"deleted": map[bool]string{true: "*", false: " "}[i%5 == 0], "nested": map[string]any{"a": 1},
		})
	}
	return f
}

func (f *fakeRoute) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	f.lastURL.Store(r.URL.String())
	if f.auth != nil && !f.auth(r) {
		http.Error(w, `{"errorCode":401,"errorMessage":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if f.fail.Add(-1) >= 0 {
		http.Error(w, `{"errorCode":500,"errorMessage":"boom"}`, http.StatusInternalServerError)
		return
	}
	if f.hang.Add(-1) >= 0 {
		<-r.Context().Done()
		return
	}
	q := r.URL.Query()
	if strings.HasPrefix(r.URL.Path, "/rest/customers/") {
		key := strings.TrimPrefix(r.URL.Path, "/rest/customers/")
		for _, it := range f.items {
			if "|"+strings.TrimSpace(it["code"].(string)) == key {
				_ = json.NewEncoder(w).Encode(it)
				return
			}
		}
		http.Error(w, `{"errorCode":404}`, http.StatusNotFound)
		return
	}
	var sel []map[string]any
	for _, it := range f.items {
		code, _ := it["code"].(string)
		code = strings.TrimSpace(code)
		if s := q.Get("since"); s != "" && it["stamp"].(string) < strings.TrimSuffix(s, ".000Z") {
			continue
		}
		if c := q.Get("CODE"); c != "" && c != code {
			continue
		}
		if k := q.Get("key"); k != "" && k != "|"+code {
			continue
		}
		sel = append(sel, it)
	}
	size, _ := strconv.Atoi(q.Get("pageSize") + q.Get("limit"))
	start := 0
	if o := q.Get("offset"); o != "" {
		start, _ = strconv.Atoi(o)
	} else {
		page, _ := strconv.Atoi(q.Get("page"))
		start = (page - 1) * size
	}
	end := min(start+size, len(sel))
	start = min(start, end)
	_ = json.NewEncoder(w).Encode(map[string]any{"hasNext": end < len(sel), "items": sel[start:end]})
}

func fakeSpec(url string) RouteSpec {
	return RouteSpec{
		Name: "customers", BaseURL: url + "/rest", Path: "/customers", SinceParam: "since",
		ItemsPath: "items", HasNextPath: "hasNext", KeyFields: []string{"FILIAL", "CODE"}, FilialField: "FILIAL",
		StampField: "stamp", DeletedField: "deleted",
		Fields: []FieldSpec{{Name: "FILIAL", Path: "filial"}, {Name: "CODE", Path: "code"}, {Name: "NAME", Path: "name"},
			{Name: "PRICE", Path: "price", Kind: sqlerp.KindNumber, Decimals: 2}},
		Retries: -1, Backoff: time.Millisecond, Timeout: 2 * time.Second,
	}
}

func drain(t *testing.T, seq func(func(erp.Page, error) bool)) ([]erp.Record, []erp.Position, error) {
	t.Helper()
	var recs []erp.Record
	var pos []erp.Position
	for page, err := range seq {
		if err != nil {
			return recs, pos, err
		}
		recs = append(recs, page.Records...)
		pos = append(pos, page.Next)
	}
	return recs, pos, nil
}

func TestFullPassPaging(t *testing.T) {
	tests := []struct {
		name   string
		adjust func(*RouteSpec)
	}{
		{"page and hasNext", func(*RouteSpec) {}},
		{"page without hasNext", func(s *RouteSpec) { s.HasNextPath = "" }},
		{"offset style", func(s *RouteSpec) { s.OffsetParam, s.PageSizeParam, s.HasNextPath = "offset", "limit", "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(23)
			srv := httptest.NewServer(f)
			defer srv.Close()
			spec := fakeSpec(srv.URL)
			tt.adjust(&spec)
			src, err := NewSource(spec)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			recs, pos, err := drain(t, src.FullPass(context.Background(), "", 10))
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 23 || len(pos) != 3 {
				t.Fatalf("read %d records in %d pages, want 23 in 3", len(recs), len(pos))
			}
			r := recs[4]
			if r.Key != "|000005" || r.Fields["NAME"] != "CUSTOMER 5" || !r.Deleted || recs[3].Deleted {
				t.Errorf("record 5 = %+v", r)
			}
			if p := r.Fields["PRICE"].(decimal.Decimal); !p.Equal(decimal.RequireFromString("5.1")) {
				t.Errorf("price = %s, want 5.1", p)
			}
			if r.Stamp == nil || !r.Stamp.Equal(time.Date(2024, 1, 2, 0, 5, 0, 0, time.UTC)) {
				t.Errorf("stamp = %v", r.Stamp)
			}
			// Resuming after the first page reads the rest only.
			rest, _, err := drain(t, src.FullPass(context.Background(), pos[0], 10))
			if err != nil || len(rest) != 13 || rest[0].Key != "|000011" {
				t.Fatalf("resume: %d records, first %v, err %v", len(rest), rest, err)
			}
		})
	}
}

func TestChangesOverlapAndPosition(t *testing.T) {
	for _, tc := range []struct {
		overlap time.Duration
		reread  int    // rows the next poll reads again
		first   string // the first of them
		since   string // the since parameter it sends
	}{
		// The next poll re-reads the 5-minute overlap: stamps 00:25 … 00:30.
		{5 * time.Minute, 6, "|000025", "since=2024-01-02T00%3A25%3A00.000Z"},
		// No overlap (erp.overlap = "0s"): from the last stamp, which ">=" reads again.
		{0, 1, "|000030", "since=2024-01-02T00%3A30%3A00.000Z"},
	} {
		t.Run(fmt.Sprint("overlap ", tc.overlap), func(t *testing.T) {
			f := newFake(30)
			srv := httptest.NewServer(f)
			defer srv.Close()
			spec := fakeSpec(srv.URL)
			spec.Overlap = tc.overlap
			src, _ := NewSource(spec)
			ctx := context.Background()

			all, pos, err := drain(t, src.Changes(ctx, "", 8))
			if err != nil || len(all) != 30 {
				t.Fatalf("first poll: %d records, err %v", len(all), err)
			}
			last, _ := decodePosition(pos[len(pos)-1])
			if last.Key != "|000030" || !last.Stamp.Equal(time.Date(2024, 1, 2, 0, 30, 0, 0, time.UTC)) {
				t.Fatalf("last position = %+v", last)
			}
			again, _, err := drain(t, src.Changes(ctx, pos[len(pos)-1], 8))
			if err != nil || len(again) != tc.reread || again[0].Key != tc.first {
				t.Fatalf("second poll: %d records (%v), err %v; want %d from %s", len(again), again, err, tc.reread, tc.first)
			}
			if got := f.lastURL.Load().(string); !strings.Contains(got, tc.since) {
				t.Errorf("since sent as %s; want %s", got, tc.since)
			}
		})
	}
}

func TestChangesCapsFutureStamp(t *testing.T) {
	f := newFake(3)
	srv := httptest.NewServer(f)
	defer srv.Close()
	spec := fakeSpec(srv.URL)
	spec.Overlap = 2 * time.Minute // erp.overlap's default
	src, _ := NewSource(spec)
	src.now = func() time.Time { return time.Date(2024, 1, 2, 0, 3, 0, 0, time.UTC) }
	recs, _, err := drain(t, src.Changes(context.Background(), StampPosition(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)), 10))
	if err != nil || len(recs) != 3 {
		t.Fatalf("a future position hid %d of 3 rows (err %v)", 3-len(recs), err)
	}
}

// A row stamped in the future (a skewed clock, a manual UPDATE) must not
// carry the cursor past the rows written after the poll that read it, even
// when the next poll comes later than the overlap (every 5 minutes, with 2
// minutes of overlap).
func TestAFutureStampDoesNotCarryTheCursorPastLaterRows(t *testing.T) {
	f := newFake(3)
	f.items[2]["stamp"] = "2099-01-01T00:00:00Z"
	srv := httptest.NewServer(f)
	defer srv.Close()
	spec := fakeSpec(srv.URL)
	spec.Overlap = 2 * time.Minute
	src, _ := NewSource(spec)
	now := time.Date(2024, 1, 2, 0, 10, 0, 0, time.UTC)
	src.now = func() time.Time { return now }
	ctx := context.Background()
	recs, pos, err := drain(t, src.Changes(ctx, "", 10))
	if err != nil || len(recs) != 3 {
		t.Fatalf("first poll: %d records, err %v", len(recs), err)
	}
	// Written after the first poll; the next poll comes 5 minutes later.
	f.items = append(f.items, map[string]any{"code": "000004", "name": "LATER", "price": json.Number("1"),
		"stamp": "2024-01-02T00:11:00Z", "deleted": " "})
	now = now.Add(5 * time.Minute)
	recs, _, err = drain(t, src.Changes(ctx, pos[len(pos)-1], 10))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range recs {
		keys = append(keys, r.Key)
	}
	if fmt.Sprint(keys) != "[|000003 |000004]" {
		t.Errorf("the next poll read %v (cursor %s); want the future row again and the later row", keys, pos[len(pos)-1])
	}
}

func TestNotIncremental(t *testing.T) {
	spec := fakeSpec("http://127.0.0.1:1")
	spec.SinceParam = ""
	src, _ := NewSource(spec)
	if src.Incremental() {
		t.Fatal("a route without since is incremental")
	}
	if _, err := src.Checkpoint(context.Background()); !errors.Is(err, erp.ErrNotIncremental) {
		t.Fatalf("Checkpoint err = %v", err)
	}
	_, _, err := drain(t, src.Changes(context.Background(), "", 10))
	if !errors.Is(err, erp.ErrNotIncremental) {
		t.Fatalf("Changes err = %v", err)
	}
}

func TestCheckpointUsesServerClock(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", "Tue, 02 Jan 2024 10:00:00 GMT")
		_, _ = w.Write([]byte(`{"hasNext":false,"items":[]}`))
	}))
	defer srv.Close()
	src, _ := NewSource(fakeSpec(srv.URL))
	pos, err := src.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := StampPosition(time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC)); pos != want {
		t.Fatalf("checkpoint = %s, want %s", pos, want)
	}
}

func TestAuthAndErrors(t *testing.T) {
	const password, token = "pr0theus-secret", "tok-abcdef-123456"
	tests := []struct {
		name    string
		auth    Auth
		refused bool
	}{
		{"basic accepted", Auth{User: "admin", Password: password}, false},
		{"basic refused", Auth{User: "admin", Password: "wrong-" + password}, true},
		{"bearer accepted", Auth{Token: token}, false},
		{"bearer refused", Auth{Token: token + "x"}, true},
		{"none refused", Auth{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(3)
			f.auth = func(r *http.Request) bool {
				if u, p, ok := r.BasicAuth(); ok {
					return u == "admin" && p == password
				}
				return r.Header.Get("Authorization") == "Bearer "+token
			}
			srv := httptest.NewServer(f)
			defer srv.Close()
			spec := fakeSpec(srv.URL)
			spec.Auth = tt.auth
			spec.Retries = 3
			src, _ := NewSource(spec)
			_, _, err := drain(t, src.FullPass(context.Background(), "", 10))
			if !tt.refused {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var re *RequestError
			if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &re) || re.Status != 401 || re.Method != "GET" {
				t.Fatalf("err = %v, want a 401 RequestError", err)
			}
			if !strings.Contains(err.Error(), "GET /customers?page=1&pageSize=10") {
				t.Errorf("error does not name method and path: %v", err)
			}
			if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), token) {
				t.Errorf("error leaks a secret: %v", err)
			}
			if n := f.requests.Load(); n != 1 {
				t.Errorf("a refused request was sent %d times, want 1 (no retry)", n)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		fail     int32
		hang     int32
		retries  int
		wantErr  bool
		wantReqs int32
	}{
		{"500 then success", 2, 0, 3, false, 3},
		{"500 beyond the retries", 5, 0, 2, true, 3},
		{"no retries", 1, 0, -1, true, 1},
		{"timeout then success", 0, 1, 2, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(3)
			f.fail.Store(tt.fail)
			f.hang.Store(tt.hang)
			srv := httptest.NewServer(f)
			defer srv.Close()
			spec := fakeSpec(srv.URL)
			spec.Retries, spec.Timeout = tt.retries, 150*time.Millisecond
			src, _ := NewSource(spec)
			recs, _, err := drain(t, src.FullPass(context.Background(), "", 10))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && len(recs) != 3 {
				t.Errorf("read %d records, want 3", len(recs))
			}
			var re *RequestError
			if tt.wantErr && (!errors.As(err, &re) || re.Status != 500) {
				t.Errorf("err = %v, want a 500 RequestError", err)
			}
			if n := f.requests.Load(); n != tt.wantReqs {
				t.Errorf("sent %d requests, want %d", n, tt.wantReqs)
			}
		})
	}
}

func TestLookupAndFind(t *testing.T) {
	f := newFake(12)
	srv := httptest.NewServer(f)
	defer srv.Close()
	ctx := context.Background()
	tests := []struct {
		name   string
		adjust func(*RouteSpec)
	}{
		{"key fields as filters", func(s *RouteSpec) {}},
		{"key parameter", func(s *RouteSpec) { s.KeyParam = "key" }},
		{"path template", func(s *RouteSpec) { s.LookupPath = "/customers/{key}" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := fakeSpec(srv.URL)
			tt.adjust(&spec)
			src, _ := NewSource(spec)
			rec, ok, err := src.Lookup(ctx, "|000007")
			if err != nil || !ok || rec.Fields["NAME"] != "CUSTOMER 7" {
				t.Fatalf("Lookup = %+v, %v, %v", rec, ok, err)
			}
			_, ok, err = src.Lookup(ctx, "|999999")
			if err != nil || ok {
				t.Fatalf("Lookup of a missing key = %v, %v", ok, err)
			}
			if _, _, err := src.Lookup(ctx, "000007"); err == nil {
				t.Fatal("Lookup with the wrong number of key parts succeeded")
			}
		})
	}
	src, _ := NewSource(fakeSpec(srv.URL))
	recs, err := src.Find(ctx, []erp.Match{{Column: "code", Value: "000003"}}, 5)
	if err != nil || len(recs) != 1 || recs[0].Key != "|000003" {
		t.Fatalf("Find = %v, %v", recs, err)
	}
	if got := f.lastURL.Load().(string); !strings.Contains(got, "CODE=000003") {
		t.Errorf("Find sent %s", got)
	}
}

func TestAllFieldsSkipsControlAndNested(t *testing.T) {
	f := newFake(2)
	srv := httptest.NewServer(f)
	defer srv.Close()
	spec := fakeSpec(srv.URL)
	spec.Fields, spec.KeyFields = nil, []string{"code"}
	src, _ := NewSource(spec)
	recs, _, err := drain(t, src.FullPass(context.Background(), "", 10))
	if err != nil || len(recs) != 2 {
		t.Fatalf("%v, %v", recs, err)
	}
	got := recs[0].Fields
	if _, ok := got["NESTED"]; ok {
		t.Error("a nested object became a field")
	}
	if _, ok := got["STAMP"]; ok {
		t.Error("the stamp field became a field (it would change every fingerprint)")
	}
	if p, ok := got["PRICE"].(decimal.Decimal); !ok || !p.Equal(decimal.RequireFromString("1.1")) {
		t.Errorf("PRICE = %#v", got["PRICE"])
	}
	if recs[0].Key != "000001" || got["NAME"] != "CUSTOMER 1" {
		t.Errorf("record = %+v", recs[0])
	}
}

func TestRepeatedPageIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"hasNext":true,"items":[{"code":"1"},{"code":"2"}]}`))
	}))
	defer srv.Close()
	spec := fakeSpec(srv.URL)
	spec.Fields, spec.KeyFields = nil, []string{"code"}
	src, _ := NewSource(spec)
	_, _, err := drain(t, src.FullPass(context.Background(), "", 2))
	if err == nil || !strings.Contains(err.Error(), "repeats the previous page") {
		t.Fatalf("err = %v", err)
	}
}

// TestBadValuesArePerRecord: an item whose price is no number, or whose key
// is missing, is read with its problem; the items after it are read too.
func TestBadValuesArePerRecord(t *testing.T) {
	f := newFake(6)
	f.items[1]["price"] = "NaN"
	f.items[2]["price"] = map[string]any{"value": 3}
	f.items[3]["code"] = nil
	f.items[4]["code"] = "      "
	srv := httptest.NewServer(f)
	defer srv.Close()
	src, _ := NewSource(fakeSpec(srv.URL))
	recs, _, err := drain(t, src.FullPass(context.Background(), "", 10))
	if err != nil || len(recs) != 6 {
		t.Fatalf("read %d items, err %v; want all 6", len(recs), err)
	}
	for i, want := range []struct {
		column, reason string
		key            bool
	}{
		{},
		{"PRICE", "is not a number", false},
		{"PRICE", "is a JSON object, not a scalar", false},
		{"CODE", "NULL in a key column", true},
		{"CODE", "is a blank key", true},
		{},
	} {
		r := recs[i]
		if want.column == "" {
			if len(r.BadValues) != 0 || r.KeyError() != nil {
				t.Errorf("item %d: bad values %v, want none", i, r.BadValues)
			}
			continue
		}
		b, ok := r.Bad(want.column)
		if !ok || b.Reason != want.reason || (!want.key && r.Fields[want.column] != nil) || (r.KeyError() != nil) != want.key {
			t.Errorf("item %d: %s = %v, bad values %v (key error %v); want a bad value that %s", i, want.column,
				r.Fields[want.column], r.BadValues, r.KeyError(), want.reason)
		}
		if want.key && r.Key != "|#0" {
			t.Errorf("item %d: key %q, want |#0 (no record number: the route has none)", i, r.Key)
		}
	}
}
