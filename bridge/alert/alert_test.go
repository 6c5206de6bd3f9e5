package alert

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
)

// Each condition is sent once when it starts, reminded every Remind while
// it lasts, and resolved once when it clears.
func TestTrackerSendsOnceRemindsAndResolves(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	a := Condition{Key: "parked:customers", Summary: "3 customers records parked"}
	b := Condition{Key: "lag:orders", Summary: "orders lags"}
	steps := []struct {
		at      time.Duration
		holding []Condition
		want    []string // key state
	}{
		{0, []Condition{a}, []string{"parked:customers firing"}},
		{time.Minute, []Condition{a}, nil},
		{59 * time.Minute, []Condition{a, b}, []string{"lag:orders firing"}},
		{60 * time.Minute, []Condition{a, b}, []string{"parked:customers reminder"}},
		{61 * time.Minute, []Condition{b}, []string{"parked:customers resolved"}},
		{62 * time.Minute, nil, []string{"lag:orders resolved"}},
		{63 * time.Minute, nil, nil},
		{64 * time.Minute, []Condition{a}, []string{"parked:customers firing"}},
	}
	tr := &Tracker{Remind: time.Hour}
	for _, s := range steps {
		var got []string
		for _, al := range tr.Update(t0.Add(s.at), s.holding) {
			got = append(got, al.Key+" "+al.State)
		}
		if strings.Join(got, ",") != strings.Join(s.want, ",") {
			t.Fatalf("at %s: sent %v, want %v", s.at, got, s.want)
		}
	}
}

// The webhook posts the generic JSON, a Teams Adaptive Card or a Slack
// message, and an answer other than 2xx is an error.
func TestWebhookFormats(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		st := status
		mu.Unlock()
		if r.Header.Get("Content-Type") != "application/json" {
			st = http.StatusUnsupportedMediaType
		}
		w.WriteHeader(st)
	}))
	defer srv.Close()
	al := Alert{Condition: Condition{Key: "parked:customers", Kind: "parked", Stream: "customers", Summary: "3 customers records parked",
		Detail: "erpbridge errors list"}, State: StateFiring, At: time.Now()}
	for _, tt := range []struct{ format, want string }{
		{"", `"kind":"parked"`}, {FormatJSON, `"state":"firing"`},
		{FormatTeams, `"type":"AdaptiveCard"`}, {FormatSlack, `{"text":"[erpbridge] 3 customers records parked\nerpbridge errors list"}`},
	} {
		if err := (Webhook{URL: srv.URL + "/hook", Format: tt.format}).Send(context.Background(), al); err != nil {
			t.Fatalf("%s: %v", tt.format, err)
		}
		mu.Lock()
		got := bodies[len(bodies)-1]
		mu.Unlock()
		if !json.Valid([]byte(got)) || !strings.Contains(got, tt.want) {
			t.Errorf("%s body %s, want it to hold %s", tt.format, got, tt.want)
		}
	}
	mu.Lock()
	status = http.StatusForbidden
	mu.Unlock()
	if err := (Webhook{URL: srv.URL + "/secret-path"}).Send(context.Background(), al); err == nil || !strings.Contains(err.Error(), "403") || strings.Contains(err.Error(), "secret-path") {
		t.Errorf("a 403 gave %v, want an error naming the status and not the URL's path", err)
	}
	if _, err := (Webhook{Format: "pager"}).Body(al); err == nil {
		t.Error("format pager: no error")
	}
}

// The conditions read from a real checkpoint store.
func TestEvaluatorReadsTheConditions(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	clock := now.Add(-6 * time.Hour)
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"), store.WithNow(func() time.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := 0; i < 3; i++ {
		id, err := st.StartRun(ctx, "customers", store.RunIncremental)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.FinishRun(ctx, id, store.RunStats{Err: "reading SA1 page: connection refused"}); err != nil {
			t.Fatal(err)
		}
	}
	if id, err := st.StartRun(ctx, "products", store.RunIncremental); err != nil || st.FinishRun(ctx, id, store.RunStats{Err: "boom"}) != nil {
		t.Fatal(err)
	}
	if err := st.Update(ctx, func(tx *store.Tx) error { return tx.SetCursor("products", "p") }); err != nil {
		t.Fatal(err)
	}
	if err := st.Update(ctx, func(tx *store.Tx) error {
		id, err := tx.Enqueue(store.OutboxItem{Stream: "customers", Entity: "organization", ERPKey: "k1", Op: store.OpCreate})
		if err != nil {
			return err
		}
		return tx.Park(id, "bad", store.LevelError)
	}); err != nil {
		t.Fatal(err)
	}
	var limited int64
	e := &Evaluator{Store: st, Streams: []string{"customers", "products"}, RateLimited: func() int64 { return limited },
		Thresholds: Thresholds{FailedRuns: 3, Lag: 4 * time.Hour, BudgetFor: 10 * time.Minute}}
	keys := func(at time.Time) string {
		cs, err := e.Evaluate(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		var ks []string
		for _, c := range cs {
			ks = append(ks, c.Key)
		}
		return strings.Join(ks, ",")
	}
	if got, want := keys(now), "sync_failing:customers,lag:products,parked:customers"; got != want {
		t.Fatalf("conditions %s, want %s (products failed once only)", got, want)
	}
	// 429s at every evaluation for 10 minutes: the budget is exhausted.
	for i := 0; i <= 10; i++ {
		limited += 5
		got := keys(now.Add(time.Duration(i) * time.Minute))
		if has := strings.Contains(got, "budget_exhausted"); has != (i == 10) {
			t.Fatalf("after %d minutes of 429s: %s", i, got)
		}
	}
	if got := keys(now.Add(11 * time.Minute)); strings.Contains(got, "budget_exhausted") {
		t.Fatalf("no new 429s, still exhausted: %s", got)
	}
}
