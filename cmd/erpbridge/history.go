package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/erpbridge/erpbridge/bridge/health"
	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
	"github.com/spf13/cobra"
)

// parseSince reads --since: a duration back from now ("24h", "30m") or a
// local date or time ("2026-12-01", "2026-12-01 08:00").
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration such as 24h or a date such as 2026-12-01", s)
}

// runJSON is a run as `erpbridge runs --json` prints it.
type runJSON struct {
	Stream string `json:"stream"`
	*runStatus
}

func newRunsCmd() *cobra.Command {
	var (
		path, stream, since string
		limit               int
		asJSON              bool
	)
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List the runs the store keeps (30 days), newest first",
		Long: `List the runs of every stream (or one, with --stream) the checkpoint store
keeps — 30 days — newest first: kind, status, start, duration and what each
read, created, updated, left unchanged, skipped, failed or deleted, with the
API calls and the error that ended a failed run. Nothing is connected to.`,
		Example: `  erpbridge runs --stream customers --since 24h
  erpbridge runs --since 2026-12-01 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := parseSince(since, time.Now())
			if err != nil {
				return usageError(err)
			}
			cfg, st, err := openStore(cmd.Context(), path)
			if err != nil {
				return err
			}
			defer st.Close()
			if stream != "" {
				if err := knownStream(cfg, stream); err != nil {
					return err
				}
			}
			runs, err := st.Runs(cmd.Context(), store.RunFilter{Stream: stream, Since: from, Limit: limit})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				rs := make([]runJSON, len(runs))
				for i, r := range runs {
					rs[i] = runJSON{Stream: r.Stream, runStatus: newRunStatus(r)}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"runs": rs})
			}
			if len(runs) == 0 {
				fmt.Fprintln(out, "no runs")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tSTREAM\tKIND\tSTATUS\tSTARTED\tTOOK\tREAD\tCREATED\tUPDATED\tUNCHANGED\tSKIPPED\tFAILED\tDELETED\tAPI CALLS\tERROR")
			for _, r := range runs {
				took := "-"
				if r.Duration > 0 {
					took = r.Duration.Round(time.Millisecond).String()
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", r.ID, r.Stream, r.Kind, r.Status,
					r.StartedAt.Local().Format("2006-01-02 15:04:05"), took, r.Stats.Read, r.Stats.Created, r.Stats.Updated,
					r.Stats.Unchanged, r.Stats.Skipped, r.Stats.Failed, r.Stats.Deleted, r.Stats.APICalls, r.Stats.Err)
			}
			return tw.Flush()
		},
	}
	configFlag(cmd, &path)
	cmd.Flags().StringVar(&stream, "stream", "", "only this stream's runs")
	cmd.Flags().StringVar(&since, "since", "", "only runs started since: a duration (24h) or a date (2026-12-01)")
	cmd.Flags().IntVar(&limit, "limit", 200, "at most this many runs")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// enabledStreams are the streams of cfg, the won-deal flow's last.
func enabledStreams(cfg *config.Config) []string {
	names := wiring.StreamNames(cfg)
	if cfg.Inbound() {
		names = append(names, inbound.Stream)
	}
	return names
}

// knownStream fails with the enabled streams when stream is not one.
func knownStream(cfg *config.Config, stream string) error {
	names := enabledStreams(cfg)
	if slices.Contains(names, stream) {
		return nil
	}
	return usageError(fmt.Errorf("stream %q: enabled streams are %s", stream, strings.Join(names, ", ")))
}

// writeJSON is one write of a record as `history --json` prints it.
type writeJSON struct {
	ID        int64           `json:"id"`
	RunID     int64           `json:"run_id"`
	Op        string          `json:"op"`
	State     string          `json:"state"`
	Level     string          `json:"level,omitempty"`
	CRMID     string          `json:"crm_id,omitempty"`
	Attempts  int             `json:"attempts"`
	Error     string          `json:"error,omitempty"`
	QueuedAt  time.Time       `json:"queued_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	Payload   json.RawMessage `json:"payload,omitempty"`
}

// historyJSON is a record's history as `history --json` prints it.
type historyJSON struct {
	Stream    string           `json:"stream"`
	Entity    string           `json:"entity"`
	ERPKey    string           `json:"erp_key"`
	CRMID     string           `json:"crm_id,omitempty"`
	SyncedAt  time.Time        `json:"synced_at,omitzero"`
	Deleted   bool             `json:"deleted,omitempty"`
	Writes    []writeJSON      `json:"writes"`
	Warnings  []map[string]any `json:"warnings,omitempty"`
	Writeback *store.Writeback `json:"won_deal,omitempty"`
}

func newHistoryJSON(h health.RecordHistory) historyJSON {
	out := historyJSON{Stream: h.Stream, Entity: h.Entity, ERPKey: h.ERPKey, Writes: []writeJSON{}, Writeback: h.Writeback}
	if id := h.Identity; id != nil {
		out.CRMID, out.SyncedAt, out.Deleted = id.CRMID, id.SyncedAt, id.Deleted
	}
	for _, w := range h.Writes {
		wj := writeJSON{ID: w.ID, RunID: w.RunID, Op: string(w.Op), State: string(w.State), Level: string(w.Level), CRMID: w.CRMID,
			Attempts: w.Attempts, Error: w.LastError, QueuedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
		if json.Valid(w.Payload) {
			wj.Payload = w.Payload
		}
		out.Writes = append(out.Writes, wj)
	}
	for _, w := range h.Warnings {
		out.Warnings = append(out.Warnings, map[string]any{"kind": w.Kind, "text": w.Text, "first_seen": w.CreatedAt, "last_seen": w.UpdatedAt})
	}
	return out
}

func newHistoryCmd() *cobra.Command {
	var (
		path   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "history STREAM KEY",
		Short: "Show what the store knows of one record: its CRM id, writes, runs and warnings",
		Long: `Show one record's history, the same as the status page's record lookup:
its CRM id and when the CRM last confirmed it, every write the store keeps
(open ones, and confirmed ones for 7 days) with its run, operation, outcome,
error and payload, and its warnings. KEY is the ERP key (as errors list
prints it, e.g. "  |000123|01") or the CRM id; for won_deals, the deal id.
Nothing is connected to.`,
		Example: `  erpbridge history customers "  |000123|01"
  erpbridge history contacts 64f1c0ffee --json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			stream, key := args[0], args[1]
			cfg, st, err := openStore(cmd.Context(), path)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := knownStream(cfg, stream); err != nil {
				return err
			}
			entities, in := map[string]string{}, ""
			if stream == inbound.Stream {
				in = stream
			} else {
				entities[stream] = cfg.Entity(stream)
			}
			found, err := health.LookupRecord(cmd.Context(), st, entities, in, key)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				hs := make([]historyJSON, len(found))
				for i, h := range found {
					hs[i] = newHistoryJSON(h)
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"records": hs})
			}
			if len(found) == 0 {
				return &exitError{code: ExitFailure, err: fmt.Errorf("%s: no record with ERP key or CRM id %q in the store", stream, key)}
			}
			for _, h := range found {
				printHistory(out, h)
			}
			return nil
		},
	}
	configFlag(cmd, &path)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// printHistory writes one record's history as text.
func printHistory(out io.Writer, h health.RecordHistory) {
	fmt.Fprintf(out, "%s %s %q\n", h.Stream, h.Entity, h.ERPKey)
	switch id := h.Identity; {
	case h.Writeback != nil:
		wb := h.Writeback
		fmt.Fprintf(out, "  deal %s %q: %s", wb.DealID, wb.DealName, wb.State)
		if wb.OrderNumber != "" {
			fmt.Fprintf(out, ", ERP order %s", wb.OrderNumber)
		}
		if wb.Error != "" {
			fmt.Fprintf(out, ": %s", wb.Error)
		}
		fmt.Fprintf(out, " (%d attempts, first %s, last %s)\n", wb.Attempts, when(wb.CreatedAt), when(wb.UpdatedAt))
	case id == nil:
		fmt.Fprintln(out, "  not in the CRM yet")
	default:
		crm := id.CRMID
		if crm == "" {
			crm = "not known yet"
		}
		fmt.Fprintf(out, "  CRM id %s, last confirmed %s", crm, when(id.SyncedAt))
		if id.Deleted {
			fmt.Fprint(out, ", deleted in the ERP")
		}
		fmt.Fprintln(out)
	}
	if len(h.Writes) > 0 {
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  WRITE\tRUN\tOP\tSTATE\tCRM ID\tQUEUED\tLAST CHANGE\tERROR")
		for _, w := range h.Writes {
			state := string(w.State)
			if w.Level != "" {
				state += " (" + string(w.Level) + ")"
			}
			fmt.Fprintf(tw, "  %d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", w.ID, w.RunID, w.Op, state, w.CRMID, when(w.CreatedAt), when(w.UpdatedAt), w.LastError)
		}
		_ = tw.Flush()
	}
	for _, w := range h.Warnings {
		fmt.Fprintf(out, "  warning (%s): %s (first %s, last %s)\n", w.Kind, w.Text, when(w.CreatedAt), when(w.UpdatedAt))
	}
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
