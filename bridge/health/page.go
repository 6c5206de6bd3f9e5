package health

import (
	"cmp"
	"context"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/store"
	"go.uber.org/zap"
)

// The status page: server-rendered, its stylesheet embedded, no script and
// nothing fetched from elsewhere, so it works on an isolated ERP server.
// It is read-only: retrying errors stays in the CLI (erpbridge errors
// retry), so the page needs no CSRF defence and a leaked page view changes
// nothing.

//go:embed page
var pageFS embed.FS

// PageRefresh is how often the status page reloads itself.
const PageRefresh = 5 * time.Second

// chartRuns is how many runs the page's chart shows.
const chartRuns = 50

var pageTmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Local().Format("2006-01-02 15:04:05")
	},
	"dur": func(d time.Duration) string {
		if d <= 0 {
			return "—"
		}
		return d.Round(time.Second).String()
	},
	"secs": func(d time.Duration) int { return int(d / time.Second) },
}).ParseFS(pageFS, "page/*.html"))

// Figure is one labelled value of a panel.
type Figure struct{ Label, Value string }

// StreamRow is one stream on the status page.
type StreamRow struct {
	Name, Entity string
	// State is running, idle, failed (its last run failed) or never run.
	State                   string
	LastRun                 *store.Run
	NextRun                 time.Time
	Records, InCRM          int64
	Pending, Failed, Parked int64
	Cursor                  string
	Lag                     time.Duration // since the cursor last moved
	Running                 *Running
}

// Running is a pass under way as the page shows it.
type Running struct {
	bridge.Progress
	Percent int    // -1 when the total is not known
	Rate    string // records per second
	ETA     string // "" when not known
}

// RunBar is one run in the page's chart.
type RunBar struct {
	store.Run
	Writes                      int64 // created + updated + deleted
	X, Y, FailH, WriteY, WriteH int   // the bar's place in the SVG
}

// ErrorRow is one failed, parked or warned record.
type ErrorRow struct {
	Stream, Level, ERPKey, CRMID, Reason string
	Attempts                             int
	First, Last                          time.Time
}

// Page is everything the status page shows.
type Page struct {
	Now         time.Time
	Refresh     time.Duration
	Streams     []StreamRow
	StreamNames []string
	Budget      []Figure
	WonDeals    []Figure
	LeadTimes   []LeadTime
	Runs        []RunBar
	ChartW      int
	ChartH      int
	Errors      []ErrorRow
	Filter      string   // the errors table's stream filter ("" all)
	Problems    []string // what could not be read
	Open        bool     // a bridge is attached
}

// budgetFigures are the API budget panel's lines, from the target system
// client's counters: one line per figure, so a new figure is one line.
func budgetFigures(st Stats) []Figure {
	fs := []Figure{
		{"requests sent", fmt.Sprint(st.Requests)},
		{"429 Too Many Requests", fmt.Sprint(st.RateLimited)},
		{"retried after 5xx or network", fmt.Sprint(st.Retries)},
		{"writes without an answer", fmt.Sprint(st.OutcomeUnknown)},
	}
	methods := make([]string, 0, len(st.ByMethod))
	for m := range st.ByMethod {
		methods = append(methods, m)
	}
	slices.Sort(methods)
	for _, m := range methods {
		fs = append(fs, Figure{m + " requests", fmt.Sprint(st.ByMethod[m])})
	}
	return fs
}

// Snapshot reads what the status page shows; errorsOf filters the errors
// table by stream ("" all). A part that cannot be read is named in
// Problems and the rest is shown.
func (m *Monitor) Snapshot(ctx context.Context, errorsOf string) Page {
	t, st := m.current()
	now := m.o.Now()
	p := Page{Now: now, Refresh: PageRefresh, Budget: budgetFigures(st), Filter: errorsOf, Open: t != nil, LeadTimes: m.LeadTimes()}
	if t == nil {
		return p
	}
	ctx, cancel := context.WithTimeout(ctx, 2*m.o.PingTimeout)
	defer cancel()
	problem := func(what string, err error) { p.Problems = append(p.Problems, what+": "+err.Error()) }
	counts, err := t.Store.Count(ctx)
	if err != nil {
		problem("reading the outbox", err)
	}
	cursors := map[string]store.Cursor{}
	if cs, err := t.Store.Cursors(ctx); err != nil {
		problem("reading the cursors", err)
	} else {
		for _, c := range cs {
			cursors[c.Stream] = c
		}
	}
	var next map[string]time.Time
	if t.NextRuns != nil {
		next = t.NextRuns()
	}
	running := m.Running()
	names := append(slices.Clone(t.Streams), t.Inbound)
	if t.Inbound == "" {
		names = names[:len(names)-1]
	}
	p.StreamNames = names
	for _, name := range names {
		row := StreamRow{Name: name, Entity: t.Entities[name], State: "never run", NextRun: next[name]}
		if c, ok := cursors[name]; ok {
			row.Cursor = c.Position
			if !c.UpdatedAt.IsZero() {
				row.Lag = max(now.Sub(c.UpdatedAt), 0)
			}
		}
		for _, c := range counts {
			if c.Stream != name {
				continue
			}
			switch c.State {
			case store.StateFailed:
				row.Failed += c.N
			case store.StateParked:
				row.Parked += c.N
			default:
				row.Pending += c.N
			}
		}
		if row.Entity != "" {
			if row.Records, row.InCRM, err = t.Store.CountIdentities(ctx, row.Entity); err != nil {
				problem("counting "+name+" records", err)
			}
		}
		if r, ok, err := t.Store.LastRun(ctx, name); err != nil {
			problem("reading the last run of "+name, err)
		} else if ok {
			row.LastRun = &r
			row.State = "idle"
			if failed(r) {
				row.State = "failed"
			}
		}
		if pr, ok := running[name]; ok {
			row.State = "running"
			row.Running = newRunning(pr)
		}
		p.Streams = append(p.Streams, row)
	}
	if t.Inbound != "" {
		if wb, err := t.Store.CountWritebacks(ctx); err != nil {
			problem("counting won deals", err)
		} else {
			p.WonDeals = []Figure{
				{"waiting to be sent", fmt.Sprint(wb[store.WritebackSubmitting])},
				{"staged, waiting for the ERP", fmt.Sprint(wb[store.WritebackWaiting])},
				{"ordered, number being written back", fmt.Sprint(wb[store.WritebackDone])},
				{"ordered, number on the deal", fmt.Sprint(wb[store.WritebackWritten])},
				{"rejected by the ERP", fmt.Sprint(wb[store.WritebackRejected])},
				{"missing ERP data", fmt.Sprint(wb[store.WritebackInvalid])},
			}
		}
	}
	if runs, err := t.Store.LastRuns(ctx, chartRuns); err != nil {
		problem("reading the last runs", err)
	} else {
		p.Runs, p.ChartW, p.ChartH = chart(runs)
	}
	if p.Errors, err = errorRows(ctx, t.Store, errorsOf); err != nil {
		problem("reading the errors", err)
	}
	return p
}

func newRunning(p bridge.Progress) *Running {
	r := &Running{Progress: p, Percent: -1, Rate: fmt.Sprintf("%.1f/s", p.Rate())}
	if p.Total > 0 {
		r.Percent = int(min(p.Done*100/p.Total, 100))
	} else if p.Total == 0 {
		r.Percent = 100
	}
	if eta, ok := p.ETA(); ok {
		r.ETA = eta.String()
	}
	return r
}

// chart lays the runs (newest first) out as bars, oldest on the left:
// writes up from the baseline, failures in red on top.
func chart(runs []store.Run) ([]RunBar, int, int) {
	const barW, h = 12, 80
	var top int64 = 1
	bars := make([]RunBar, 0, len(runs))
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		b := RunBar{Run: r, Writes: r.Stats.Created + r.Stats.Updated + r.Stats.Deleted}
		top = max(top, b.Writes+r.Stats.Failed)
		bars = append(bars, b)
	}
	for i := range bars {
		b := &bars[i]
		b.X = i * barW
		b.WriteH = int(b.Writes * h / top)
		b.FailH = int(b.Stats.Failed * h / top)
		if b.Writes > 0 && b.WriteH == 0 {
			b.WriteH = 1
		}
		if b.Stats.Failed > 0 && b.FailH == 0 {
			b.FailH = 1
		}
		b.Y = h - b.WriteH - b.FailH
		b.WriteY = b.Y + b.FailH
	}
	return bars, max(len(bars)*barW, barW), h
}

// errorRows are the failed and parked writes and the warnings of stream
// ("" every stream), the most recently seen first.
func errorRows(ctx context.Context, st Store, stream string) ([]ErrorRow, error) {
	f := store.OutboxFilter{Stream: stream, Limit: 500}
	items, err := st.Errors(ctx, f)
	if err != nil {
		return nil, err
	}
	ws, err := st.Warnings(ctx, f)
	if err != nil {
		return nil, err
	}
	rows := make([]ErrorRow, 0, len(items)+len(ws))
	for _, it := range items {
		rows = append(rows, ErrorRow{Stream: it.Stream, Level: cmp.Or(string(it.Level), string(it.State)), ERPKey: it.ERPKey,
			CRMID: it.CRMID, Reason: it.LastError, Attempts: it.Attempts, First: it.CreatedAt, Last: it.UpdatedAt})
	}
	for _, w := range ws {
		rows = append(rows, ErrorRow{Stream: w.Stream, Level: "warning", ERPKey: w.ERPKey, Reason: w.Text, First: w.CreatedAt, Last: w.UpdatedAt})
	}
	slices.SortStableFunc(rows, func(a, b ErrorRow) int { return b.Last.Compare(a.Last) })
	return rows, nil
}

// RecordHistory is what the store knows of one record: its identity, its
// writes (payloads, outcomes, runs), its warnings; for a won deal, its way
// to an ERP order.
type RecordHistory struct {
	Stream, Entity string
	ERPKey         string
	Identity       *store.Identity
	Writes         []store.OutboxItem
	Warnings       []store.Warning
	Writeback      *store.Writeback
}

// LookupRecord finds the records whose ERP key or CRM id is q, in every
// stream of entities (stream → target entity), and their histories; for
// inbound (the won-deal stream, "" none) q is also tried as a deal id.
func LookupRecord(ctx context.Context, st Store, entities map[string]string, inbound, q string) ([]RecordHistory, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	streams := make([]string, 0, len(entities))
	for s := range entities {
		streams = append(streams, s)
	}
	slices.Sort(streams)
	var out []RecordHistory
	seen := map[[2]string]bool{}
	for _, s := range streams {
		entity := entities[s]
		if entity == "" {
			continue
		}
		keys := []string{q}
		if id, ok, err := st.IdentityByCRMID(ctx, entity, q); err != nil {
			return nil, fmt.Errorf("looking up %s CRM id %s: %w", entity, q, err)
		} else if ok {
			keys = append(keys, id.ERPKey)
		}
		for _, key := range keys {
			if seen[[2]string{entity, key}] {
				continue
			}
			seen[[2]string{entity, key}] = true
			h, ok, err := recordHistory(ctx, st, s, entity, key)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, h)
			}
		}
	}
	if inbound != "" {
		if wb, ok, err := st.Writeback(ctx, q); err != nil {
			return nil, fmt.Errorf("looking up won deal %s: %w", q, err)
		} else if ok {
			out = append(out, RecordHistory{Stream: inbound, Entity: "deal", ERPKey: wb.OrderNumber, Writeback: &wb})
		}
	}
	return out, nil
}

func recordHistory(ctx context.Context, st Store, stream, entity, key string) (RecordHistory, bool, error) {
	h := RecordHistory{Stream: stream, Entity: entity, ERPKey: key}
	id, ok, err := st.Identity(ctx, entity, key)
	if err != nil {
		return h, false, fmt.Errorf("looking up %s %s: %w", entity, key, err)
	}
	if ok {
		h.Identity = &id
	}
	if h.Writes, err = st.Writes(ctx, entity, key, 0); err != nil {
		return h, false, err
	}
	if h.Warnings, err = st.Warnings(ctx, store.OutboxFilter{Entity: entity, ERPKey: key}); err != nil {
		return h, false, err
	}
	return h, ok || len(h.Writes) > 0 || len(h.Warnings) > 0, nil
}

// pageHandlers adds the status page (/) and the record lookup (/record).
func (m *Monitor) pageHandlers(mux *http.ServeMux, log *zap.Logger) {
	render := func(w http.ResponseWriter, name string, data any) {
		var b strings.Builder
		if err := pageTmpl.ExecuteTemplate(&b, name, data); err != nil {
			log.Error("rendering the status page", zap.String("page", name), zap.Error(err))
			http.Error(w, "rendering the page failed; see the log", http.StatusInternalServerError)
			return
		}
		pageHeaders(w)
		_, _ = w.Write([]byte(b.String()))
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		render(w, "index.html", m.Snapshot(r.Context(), r.URL.Query().Get("stream")))
	})
	mux.HandleFunc("GET /record", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query().Get("q")
		data := struct {
			Query   string
			Found   []RecordHistory
			Problem string
		}{Query: q}
		if t, _ := m.current(); t == nil {
			data.Problem = "the bridge is not open (starting or reloading the configuration)"
		} else if found, err := LookupRecord(r.Context(), t.Store, t.Entities, t.Inbound, q); err != nil {
			data.Problem = err.Error()
		} else {
			data.Found = found
		}
		render(w, "record.html", data)
	})
	mux.HandleFunc("GET /map", func(w http.ResponseWriter, _ *http.Request) {
		t, _ := m.current()
		if t == nil || t.Map == nil {
			http.Error(w, "no data-flow map: the bridge is not open", http.StatusServiceUnavailable)
			return
		}
		var b strings.Builder
		if err := t.Map(&b); err != nil {
			log.Error("writing the data-flow map", zap.Error(err))
			http.Error(w, "writing the data-flow map failed; see the log", http.StatusInternalServerError)
			return
		}
		pageHeaders(w)
		// The map is a standalone page: its styles are inline.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
		_, _ = w.Write([]byte(b.String()))
	})
	mux.HandleFunc("GET /assets/page.css", func(w http.ResponseWriter, _ *http.Request) {
		css, _ := pageFS.ReadFile("page/page.css")
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(css)
	})
}

// pageHeaders forbid everything the page does not use: no script, nothing
// from elsewhere, no framing.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}
