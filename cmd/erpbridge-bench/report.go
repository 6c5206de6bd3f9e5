package main

import (
	"fmt"
	"io"
	"time"
)

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// perSecond is n over d, 0 when d is 0.
func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// ratio is a/b, 0 when b is 0.
func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

// printTable writes the results as a markdown table, each figure next to
// its target.
func printTable(w io.Writer, r results) {
	b, u, p := r.backfill, r.unchanged, r.poll
	createdPerS := perSecond(b.Created, b.RunTime)
	callsPerCreate := ratio(b.APICalls, b.Created)
	unchangedPerS := perSecond(u.Read, u.RunTime)
	callsPerChange := ratio(p.APICalls, p.Updated)
	crm := "the RD Station simulator (erpbridge sim --rpm -1)"
	if r.crm == "sink" {
		crm = "the O(1) CRM sink of erpbridge-bench"
	}
	fmt.Fprintf(w, "\nSA1 rows: %d (%d blocked, skipped without API calls); filled in %s with one INSERT … SELECT generate_series. CRM: %s, in its own process.\n\n",
		r.rows, r.blocked, r.fill.Round(time.Millisecond), crm)
	fmt.Fprintln(w, "| Measure | Result | Target | Verdict |")
	fmt.Fprintln(w, "|---|---|---|---|")
	row := func(m, res, target, v string) { fmt.Fprintf(w, "| %s | %s | %s | %s |\n", m, res, target, v) }
	row("(a) backfill: write path, created rows/s",
		fmt.Sprintf("%.0f/s (%d created, %d read in %s; process %s)", createdPerS, b.Created, b.Read, b.RunTime, b.Wall.Round(time.Millisecond)),
		"≥ 2,000/s", verdict(createdPerS >= 2000))
	row("(a) backfill: API calls per created row",
		fmt.Sprintf("%.4f (%d calls: one POST per created row, plus %d for the listing that builds the adoption index)", callsPerCreate, b.APICalls, b.APICalls-b.Created),
		"≤ 1 (+ the listing)", verdict(b.Created > 0 && b.APICalls-b.Created <= 1+b.Created/200))
	row("(a) backfill: peak RSS of the bridge process",
		fmt.Sprintf("%.1f MB (the CRM, a separate process: %.0f MB)", mb(b.PeakRSS), mb(r.simPeak)), "< 100 MB", verdict(b.PeakRSS > 0 && b.PeakRSS < 100<<20))
	row("(b) unchanged full pass: rows/s",
		fmt.Sprintf("%.0f/s (%d read, %d unchanged, %d skipped in %s; process %s, peak RSS %.1f MB)",
			unchangedPerS, u.Read, u.Unchanged, u.Skipped, u.RunTime, u.Wall.Round(time.Millisecond), mb(u.PeakRSS)),
		"≥ 50,000/s", verdict(unchangedPerS >= 50000))
	row("(b) unchanged full pass: API calls per unchanged row",
		fmt.Sprintf("%.0f (%d calls; %d created, %d updated)", ratio(u.APICalls, max(u.Unchanged, 1)), u.APICalls, u.Created, u.Updated),
		"0", verdict(u.APICalls == 0 && u.Created+u.Updated == 0))
	row(fmt.Sprintf("(c) incremental poll after %d changes: rows read", r.changed),
		fmt.Sprintf("%d (%d changed + %d re-read in the 2-minute overlap window)", p.Read, r.changed, r.overlap),
		fmt.Sprintf("≈ %d", r.changed), verdict(p.Read <= r.changed+r.overlap+int64(10)))
	row("(c) incremental poll: time",
		fmt.Sprintf("%s run; process %s", p.RunTime, p.Wall.Round(time.Millisecond)), "—", "—")
	row("(c) incremental poll: API calls per changed row",
		fmt.Sprintf("%.2f (%d calls, %d updated)", callsPerChange, p.APICalls, p.Updated), "≤ 1", verdict(p.Updated == r.changed && callsPerChange <= 1))
}
