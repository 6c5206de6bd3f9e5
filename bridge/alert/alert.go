// Package alert tells admins where they are (a webhook: generic JSON,
// Microsoft Teams, Slack) when the bridge needs them: a stream failing run
// after run, a cursor lagging, records parked, the API budget exhausted, a
// won deal the ERP rejected. Each condition is sent once when it starts,
// again every reminder interval while it lasts, and once more when it
// clears ("resolved"). It is vendor-neutral: conditions come from the
// checkpoint store and the target system's counters.
package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/bridge/store"
)

// Condition is one thing that needs an admin, as evaluated now.
type Condition struct {
	// Key identifies it across evaluations: kind and stream
	// ("sync_failing:customers").
	Key     string
	Kind    string // sync_failing | lag | parked | budget_exhausted | won_deal_rejected
	Stream  string
	Summary string // one line
	Detail  string // what to do
}

// Alert is one message to send.
type Alert struct {
	Condition
	// State is "firing" (first time), "reminder" or "resolved".
	State string
	Since time.Time // when the condition started
	At    time.Time
}

// Title is the alert's one-line title.
func (a Alert) Title() string {
	switch a.State {
	case StateResolved:
		return "[erpbridge] resolved: " + a.Summary
	case StateReminder:
		return "[erpbridge] still: " + a.Summary
	}
	return "[erpbridge] " + a.Summary
}

// Alert states.
const (
	StateFiring   = "firing"
	StateReminder = "reminder"
	StateResolved = "resolved"
)

// Tracker turns successive evaluations into alerts: once when a condition
// starts, every Remind while it lasts, once when it clears.
type Tracker struct {
	Remind time.Duration // 0: no reminders
	mu     sync.Mutex
	open   map[string]*tracked
}

type tracked struct {
	c              Condition
	since, lastFor time.Time
}

// Update takes the conditions that hold at now and returns what to send.
func (t *Tracker) Update(now time.Time, holding []Condition) []Alert {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.open == nil {
		t.open = map[string]*tracked{}
	}
	var out []Alert
	seen := map[string]bool{}
	for _, c := range holding {
		seen[c.Key] = true
		tr, ok := t.open[c.Key]
		switch {
		case !ok:
			t.open[c.Key] = &tracked{c: c, since: now, lastFor: now}
			out = append(out, Alert{Condition: c, State: StateFiring, Since: now, At: now})
		case t.Remind > 0 && now.Sub(tr.lastFor) >= t.Remind:
			tr.c, tr.lastFor = c, now
			out = append(out, Alert{Condition: c, State: StateReminder, Since: tr.since, At: now})
		default:
			tr.c = c
		}
	}
	for _, k := range slices.Sorted(mapKeys(t.open)) {
		if seen[k] {
			continue
		}
		tr := t.open[k]
		delete(t.open, k)
		out = append(out, Alert{Condition: tr.c, State: StateResolved, Since: tr.since, At: now})
	}
	return out
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Webhook formats.
const (
	FormatJSON  = "json"
	FormatTeams = "teams"
	FormatSlack = "slack"
)

// Webhook posts alerts to a URL in one of the formats.
type Webhook struct {
	URL    string
	Format string // json (default) | teams | slack
	Client *http.Client
}

// Body is the webhook's request body for a.
func (w Webhook) Body(a Alert) ([]byte, error) {
	text := a.Title()
	if a.Detail != "" && a.State != StateResolved {
		text += "\n" + a.Detail
	}
	switch w.Format {
	case FormatSlack:
		return json.Marshal(map[string]any{"text": text})
	case FormatTeams:
		// A Teams incoming webhook (Workflows) takes an Adaptive Card.
		return json.Marshal(map[string]any{
			"type": "message",
			"attachments": []any{map[string]any{
				"contentType": "application/vnd.microsoft.card.adaptive",
				"content": map[string]any{
					"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
					"type":    "AdaptiveCard", "version": "1.4",
					"body": []any{
						map[string]any{"type": "TextBlock", "text": a.Title(), "weight": "Bolder", "wrap": true},
						map[string]any{"type": "TextBlock", "text": a.Detail, "wrap": true},
					},
				},
			}},
		})
	case FormatJSON, "":
		return json.Marshal(map[string]any{"source": "erpbridge", "state": a.State, "kind": a.Kind, "stream": a.Stream,
			"key": a.Key, "summary": a.Summary, "detail": a.Detail, "since": a.Since, "at": a.At, "title": a.Title()})
	}
	return nil, fmt.Errorf("webhook format %q is not one of json, teams, slack", w.Format)
}

// Send posts a; an answer other than 2xx is an error naming the status.
func (w Webhook) Send(ctx context.Context, a Alert) error {
	body, err := w.Body(a)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sending alert to the webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	c := w.Client
	if c == nil {
		c = &http.Client{Timeout: 15 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			err = ue.Unwrap() // the URL may hold a secret (Slack, Teams): not in messages
		}
		return fmt.Errorf("sending alert to the webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sending alert to the webhook: it answered %s", resp.Status)
	}
	return nil
}

// Describe names the webhook without its path (which may be a secret).
func (w Webhook) Describe() string {
	host := w.URL
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	return fmt.Sprintf("webhook %s (%s)", host, cmpOr(w.Format, FormatJSON))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Store is what the conditions are read from (the checkpoint store).
type Store interface {
	Runs(ctx context.Context, f store.RunFilter) ([]store.Run, error)
	Cursors(ctx context.Context) ([]store.Cursor, error)
	Count(ctx context.Context) ([]store.OutboxCount, error)
	CountWritebacks(ctx context.Context) (map[store.WritebackState]int64, error)
}

// Thresholds say when a condition holds.
type Thresholds struct {
	FailedRuns int           // a stream's last FailedRuns runs all failed (0: off)
	Lag        time.Duration // a stream's cursor has not moved for this long (0: off)
	BudgetFor  time.Duration // 429s kept coming for this long (0: off)
}

// Evaluator reads the conditions that hold now.
type Evaluator struct {
	Store      Store
	Streams    []string // the engine's streams
	Inbound    string   // the won-deal stream ("" none)
	Thresholds Thresholds
	// RateLimited returns the target system's 429 count so far.
	RateLimited func() int64

	last429     int64
	limitedFrom time.Time // since when every evaluation saw new 429s
}

// Evaluate returns the conditions that hold at now.
func (e *Evaluator) Evaluate(ctx context.Context, now time.Time) ([]Condition, error) {
	var out []Condition
	th := e.Thresholds
	if th.FailedRuns > 0 {
		for _, s := range append(slices.Clone(e.Streams), e.Inbound) {
			if s == "" {
				continue
			}
			runs, err := e.Store.Runs(ctx, store.RunFilter{Stream: s, Limit: th.FailedRuns})
			if err != nil {
				return nil, fmt.Errorf("reading the runs of %s: %w", s, err)
			}
			if len(runs) < th.FailedRuns || slices.ContainsFunc(runs, func(r store.Run) bool {
				return r.Status != store.RunFailed || strings.HasSuffix(r.Stats.Err, context.Canceled.Error())
			}) {
				continue
			}
			out = append(out, Condition{Key: "sync_failing:" + s, Kind: "sync_failing", Stream: s,
				Summary: fmt.Sprintf("%s failed its last %d runs", s, th.FailedRuns),
				Detail:  fmt.Sprintf("Last error (run %d): %s. See erpbridge runs --stream %s.", runs[0].ID, runs[0].Stats.Err, s)})
		}
	}
	if th.Lag > 0 {
		cursors, err := e.Store.Cursors(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the cursors: %w", err)
		}
		for _, c := range cursors {
			if !slices.Contains(e.Streams, c.Stream) || c.UpdatedAt.IsZero() {
				continue
			}
			if lag := now.Sub(c.UpdatedAt); lag > th.Lag {
				out = append(out, Condition{Key: "lag:" + c.Stream, Kind: "lag", Stream: c.Stream,
					Summary: fmt.Sprintf("%s has read no ERP change for %s", c.Stream, lag.Round(time.Minute)),
					Detail:  "Either the ERP is quiet or the stream is stuck: compare with its last run on the status page."})
			}
		}
	}
	counts, err := e.Store.Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the outbox: %w", err)
	}
	for _, c := range counts {
		if c.State == store.StateParked && c.N > 0 {
			out = append(out, Condition{Key: "parked:" + c.Stream, Kind: "parked", Stream: c.Stream,
				Summary: fmt.Sprintf("%d %s records parked", c.N, c.Stream),
				Detail:  fmt.Sprintf("erpbridge errors list --stream %s; fix the cause, then erpbridge errors retry.", c.Stream)})
		}
	}
	if e.Inbound != "" {
		wb, err := e.Store.CountWritebacks(ctx)
		if err != nil {
			return nil, fmt.Errorf("counting won deals: %w", err)
		}
		if n := wb[store.WritebackRejected]; n > 0 {
			out = append(out, Condition{Key: "won_deal_rejected:" + e.Inbound, Kind: "won_deal_rejected", Stream: e.Inbound,
				Summary: fmt.Sprintf("%d won deals rejected by the ERP", n),
				Detail:  "erpbridge errors list --stream " + e.Inbound + "; fix the deal or the ERP data, then erpbridge errors retry."})
		}
	}
	if th.BudgetFor > 0 && e.RateLimited != nil {
		n := e.RateLimited()
		switch {
		case n <= e.last429:
			e.limitedFrom = time.Time{}
		case e.limitedFrom.IsZero():
			e.limitedFrom = now
		}
		e.last429 = n
		if !e.limitedFrom.IsZero() && now.Sub(e.limitedFrom) >= th.BudgetFor {
			out = append(out, Condition{Key: "budget_exhausted", Kind: "budget_exhausted",
				Summary: fmt.Sprintf("the CRM API budget has been exhausted for %s (429 Too Many Requests)", now.Sub(e.limitedFrom).Round(time.Minute)),
				Detail:  "Lower crm.requests_per_minute or find what else uses the account's token."})
		}
	}
	return out, nil
}
