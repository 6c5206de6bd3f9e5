package inbound

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
)

// Options left zero take the documented defaults; set ones are kept.
func TestPollerDefaults(t *testing.T) {
	p := New(nil, nil, nil, nil, Options{})
	if p.o.RetryAfter != time.Hour || p.o.RetryLost != time.Minute || p.o.SweepWindow != 30*24*time.Hour ||
		p.o.Now == nil || p.o.Logger == nil {
		t.Errorf("defaults: retry after %v, retry lost %v, sweep window %v; want 1h, 1m, 720h and a clock and logger",
			p.o.RetryAfter, p.o.RetryLost, p.o.SweepWindow)
	}
	p = New(nil, nil, nil, nil, Options{RetryAfter: 2 * time.Hour, RetryLost: 5 * time.Second, SweepWindow: time.Hour})
	if p.o.RetryAfter != 2*time.Hour || p.o.RetryLost != 5*time.Second || p.o.SweepWindow != time.Hour {
		t.Errorf("set options changed: %v, %v, %v", p.o.RetryAfter, p.o.RetryLost, p.o.SweepWindow)
	}
}

// A deal that keeps failing waits RetryLost, doubled per attempt, at most
// RetryAfter.
func TestBackoffDoublesUpToRetryAfter(t *testing.T) {
	p := New(nil, nil, nil, nil, Options{RetryLost: time.Minute, RetryAfter: time.Hour})
	for n, want := range map[int]time.Duration{0: time.Minute, 1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute,
		6: 32 * time.Minute, 7: time.Hour, 20: time.Hour} {
		if got := p.backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

// A run's report becomes the run's statistics as status and metrics show
// them, and the run is recorded with them.
func TestReportStats(t *testing.T) {
	r := Report{Listed: 20, Skipped: 3, OtherPipeline: 4, Sent: 5, Ordered: 2, Rejected: 1, Invalid: 6, Waiting: 7}
	want := store.RunStats{Read: 20, Created: 5, Updated: 2, Skipped: 7, Failed: 7}
	if got := r.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}

	e := newEnv(t, fakeDir{})
	e.crm.win("d1", e.now.Add(-time.Hour))
	rep := e.run(t)
	run, ok, err := e.st.LastRun(context.Background(), Stream)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if run.Stats != rep.Stats() || run.Stats.Read != 1 || run.Stats.Created != 1 {
		t.Errorf("recorded run %+v; want the report's %+v (one read, one sent)", run.Stats, rep.Stats())
	}
}

// The poll lists from its cursor less the overlap (the first poll from
// Lookback before now, less the overlap), to now, widened by the zone
// margin on both sides.
func TestThePollListsFromItsCursorLessTheOverlap(t *testing.T) {
	e := newEnv(t, fakeDir{})
	margin := e.p.o.ZoneMargin
	start := e.now
	e.run(t)
	if from, want := e.crm.lastFrom, start.Add(-24*time.Hour-10*time.Minute-margin); !from.Equal(want) || !e.crm.lastTo.Equal(start.Add(margin)) {
		t.Errorf("first poll lists %v … %v; want %v … %v", from, e.crm.lastTo, want, start.Add(margin))
	}
	e.now = e.now.Add(5 * time.Minute)
	e.run(t)
	cur, _, err := e.st.Cursor(context.Background(), Stream)
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339Nano, cur.Position)
	if err != nil {
		t.Fatal(err)
	}
	if from, want := e.crm.lastFrom, start.Add(-10*time.Minute-margin); !from.Equal(want) || !at.Equal(e.now) {
		t.Errorf("second poll lists from %v (cursor now %v); want the first poll's start less the overlap, %v", from, at, want)
	}
}

// A won deal that already carries an ERP order number is no new order; a
// blank number does not count.
func TestDealsCarryingAnOrderNumberAreNotSent(t *testing.T) {
	for _, tc := range []struct {
		name, number string
		sent         bool
	}{
		{"a number", "000123", false},
		{"a blank number", "   ", true},
		{"no number", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fakeDir{})
			e.crm.win("d1", e.now.Add(-time.Hour))
			d := e.crm.deals["d1"]
			d.OrderNumber = tc.number
			e.crm.deals["d1"] = d
			rep := e.run(t)
			if sent := e.sink.submits["d1"] == 1; sent != tc.sent || rep.Sent != map[bool]int{true: 1}[tc.sent] ||
				rep.Skipped != map[bool]int{false: 1}[tc.sent] {
				t.Errorf("deal sent %v (report %+v); want sent %v", sent, rep, tc.sent)
			}
		})
	}
}

// A deal listed again once it is on its way is counted as skipped, and
// never sent twice.
func TestADealListedAgainIsSkipped(t *testing.T) {
	e := newEnv(t, fakeDir{})
	e.crm.win("d1", e.now.Add(-time.Hour))
	e.run(t)
	e.now = e.now.Add(time.Minute)
	if rep := e.run(t); rep.Skipped != 1 || rep.Sent != 0 || e.sink.submits["d1"] != 1 {
		t.Errorf("second run %+v, %d sends; want the deal skipped, sent once", rep, e.sink.submits["d1"])
	}
}

// The deal's owner becomes the order's seller when the ERP knows them;
// otherwise the configured default seller stays.
func TestTheDealsOwnerIsTheOrdersSeller(t *testing.T) {
	e := newEnv(t, fakeDir{sellers: map[string]string{"user-ana": "000005"}})
	e.p.o.Defaults.Seller = "000001"
	for id, user := range map[string]string{"ana": "user-ana", "bob": "user-bob", "nobody": ""} {
		e.crm.win(id, e.now.Add(-time.Hour))
		d := e.crm.deals[id]
		d.OwnerID = user
		e.crm.deals[id] = d
	}
	e.run(t)
	for id, want := range map[string]string{"ana": "000005", "bob": "000001", "nobody": "000001"} {
		if got := e.sink.orders[id].Seller; got != want {
			t.Errorf("deal %s: order seller %q, want %q", id, got, want)
		}
	}
}

// The deal name goes into the order's message, cut to C5_MENNOTA's width.
func TestTheDealNameIsCutToTheMessageWidth(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"  Pedido curto  ", "Pedido curto"},
		{strings.Repeat("é", messageWidth), strings.Repeat("é", messageWidth)},
		{strings.Repeat("é", messageWidth+1), strings.Repeat("é", messageWidth)},
	} {
		if got := cut(tc.name, messageWidth); got != tc.want {
			t.Errorf("cut(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A deal that keeps failing for its own reason counts its attempts and
// backs off longer each time; a send counts as an attempt too.
func TestAttemptsAreCountedAndBackOff(t *testing.T) {
	e := newEnv(t, fakeDir{bad: map[string]error{"org-d1": fmt.Errorf("reading organization: HTTP 502")}})
	e.crm.win("d1", e.now.Add(-time.Hour))
	for attempt, wait := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
		e.run(t)
		w, _, err := e.st.Writeback(context.Background(), "d1")
		if err != nil {
			t.Fatal(err)
		}
		if w.Attempts != attempt+1 || !w.NextAttemptAt.Equal(e.now.Add(wait)) {
			t.Fatalf("after failure %d: %d attempts, next at %v; want %d, %v", attempt+1, w.Attempts, w.NextAttemptAt, attempt+1, e.now.Add(wait))
		}
		e.now = w.NextAttemptAt
	}
	e.p.dir = fakeDir{}
	e.run(t)
	if w, _, _ := e.st.Writeback(context.Background(), "d1"); w.State != store.WritebackWaiting || w.Attempts != 4 {
		t.Errorf("after the send: %+v; want waiting, the send counted as attempt 4", w)
	}
}

// The number write-back fails (a CRM error): the order is not sent again,
// the number is written by a later run, and the run that writes it counts
// it.
func TestAFailedNumberWriteIsRetriedWithoutResending(t *testing.T) {
	e := newEnv(t, fakeDir{})
	e.crm.win("d1", e.now.Add(-time.Hour))
	e.run(t)
	e.sink.job(nil)
	e.crm.updateErr = 1
	e.now = e.now.Add(time.Minute)
	if rep := e.run(t); rep.Ordered != 0 {
		t.Fatalf("a run whose number write failed: %+v; want nothing ordered", rep)
	}
	w, _, err := e.st.Writeback(context.Background(), "d1")
	if err != nil {
		t.Fatal(err)
	}
	if w.State != store.WritebackDone || w.OrderNumber != "000001" || e.crm.updates["d1"] != "" {
		t.Fatalf("after the failed write: %+v, number on the deal %q; want done, waiting to write 000001", w, e.crm.updates["d1"])
	}
	e.now = w.NextAttemptAt
	if rep := e.run(t); rep.Ordered != 1 || e.crm.updates["d1"] != "000001" {
		t.Errorf("the retry: %+v, number on the deal %q; want 000001 written and counted", rep, e.crm.updates["d1"])
	}
	if e.sink.submits["d1"] != 1 {
		t.Errorf("the order was sent %d times, want once", e.sink.submits["d1"])
	}
	if w, _, _ := e.st.Writeback(context.Background(), "d1"); w.State != store.WritebackWritten {
		t.Errorf("after the retry: %+v; want written", w)
	}
}

// `erpbridge errors retry` of a rejection the ERP still holds: nothing is
// sent again, and the deal counts one attempt again (it is listed with it).
func TestARetriedRejectionCountsAnAttempt(t *testing.T) {
	e := newEnv(t, fakeDir{})
	e.crm.win("d1", e.now.Add(-time.Hour))
	e.run(t)
	e.sink.job(map[string]bool{"d1": true})
	e.run(t)
	if _, err := e.st.RetryWritebacks(context.Background(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	e.run(t)
	w, _, err := e.st.Writeback(context.Background(), "d1")
	if err != nil {
		t.Fatal(err)
	}
	if w.State != store.WritebackRejected || w.Attempts != 1 || w.Error != "MATA410: bloqueado" || e.sink.submits["d1"] != 1 {
		t.Errorf("after errors retry: %+v, %d sends; want rejected with the job's text, 1 attempt, sent once", w, e.sink.submits["d1"])
	}
}

// A deal that cannot become an order (its organization has no ERP
// customer) is not sent, is counted invalid and listed with why, and the
// deal gets one note saying so (when notes are on), not one per retry.
func TestAnInvalidDealIsNotedOnce(t *testing.T) {
	for _, notes := range []bool{true, false} {
		t.Run(fmt.Sprintf("notes %v", notes), func(t *testing.T) {
			e := newEnv(t, fakeDir{bad: map[string]error{"org-d1": fmt.Errorf("%w: no SA1 customer", bridge.ErrNoCounterpart)}})
			e.p.o.Notes = notes
			e.crm.win("d1", e.now.Add(-time.Hour))
			if rep := e.run(t); rep.Invalid != 1 || rep.Sent != 0 || e.sink.submits["d1"] != 0 {
				t.Fatalf("run: %+v, %d sends; want the deal invalid and not sent", rep, e.sink.submits["d1"])
			}
			w, _, err := e.st.Writeback(context.Background(), "d1")
			if err != nil {
				t.Fatal(err)
			}
			if w.State != store.WritebackInvalid || !strings.Contains(w.Error, "no SA1 customer") {
				t.Fatalf("writeback %+v; want invalid, naming the missing customer", w)
			}
			e.now = w.NextAttemptAt
			e.run(t) // the retry finds the same problem
			want := 0
			if notes {
				want = 1
			}
			if n := e.crm.notes["d1"]; len(n) != want || want == 1 && !strings.Contains(n[0], "did not become an ERP order") {
				t.Errorf("notes on the deal %q; want %d saying it did not become an order", n, want)
			}
		})
	}
}
