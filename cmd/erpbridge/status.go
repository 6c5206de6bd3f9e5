package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
	"github.com/spf13/cobra"
)

// streamStatus is what `erpbridge status` reports of one stream.
type streamStatus struct {
	Stream     string         `json:"stream"`
	Entity     string         `json:"entity"`
	Cursor     string         `json:"cursor,omitempty"`
	CursorAt   time.Time      `json:"cursor_updated_at,omitzero"`
	FullPassAt time.Time      `json:"last_full_pass_at,omitzero"`
	Records    int64          `json:"records"`
	InCRM      int64          `json:"records_in_crm"`
	Outbox     map[string]int `json:"outbox"`
	LastRun    *runStatus     `json:"last_run,omitempty"`
}

// runStatus is a run as status --json shows it.
type runStatus struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Seconds    float64   `json:"duration_seconds"`
	Read       int64     `json:"read"`
	Created    int64     `json:"created"`
	Updated    int64     `json:"updated"`
	Unchanged  int64     `json:"unchanged"`
	Skipped    int64     `json:"skipped"`
	Failed     int64     `json:"failed"`
	Deleted    int64     `json:"deleted"`
	APICalls   int64     `json:"api_calls"`
	Error      string    `json:"error,omitempty"`
}

func newRunStatus(r store.Run) *runStatus {
	return &runStatus{ID: r.ID, Kind: string(r.Kind), Status: string(r.Status), StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, Seconds: r.Duration.Seconds(), Read: r.Stats.Read, Created: r.Stats.Created,
		Updated: r.Stats.Updated, Unchanged: r.Stats.Unchanged, Skipped: r.Stats.Skipped, Failed: r.Stats.Failed,
		Deleted: r.Stats.Deleted, APICalls: r.Stats.APICalls, Error: r.Stats.Err}
}

func collectStatus(ctx context.Context, cfg *config.Config, st *store.Store) ([]streamStatus, error) {
	counts, err := st.Count(ctx)
	if err != nil {
		return nil, err
	}
	var out []streamStatus
	for _, name := range wiring.StreamNames(cfg) {
		s := streamStatus{Stream: name, Entity: cfg.Entity(name), Outbox: map[string]int{}}
		if c, ok, err := st.Cursor(ctx, name); err != nil {
			return nil, err
		} else if ok {
			s.Cursor, s.CursorAt, s.FullPassAt = c.Position, c.UpdatedAt, c.FullPassAt
		}
		if s.Records, s.InCRM, err = st.CountIdentities(ctx, s.Entity); err != nil {
			return nil, err
		}
		for _, c := range counts {
			if c.Stream == name {
				s.Outbox[string(c.State)] = int(c.N)
			}
		}
		if r, ok, err := st.LastRun(ctx, name); err != nil {
			return nil, err
		} else if ok {
			s.LastRun = newRunStatus(r)
		}
		out = append(out, s)
	}
	if cfg.Inbound() {
		s := streamStatus{Stream: inbound.Stream, Entity: "deal → ERP order", Outbox: map[string]int{}}
		if c, ok, err := st.Cursor(ctx, inbound.Stream); err != nil {
			return nil, err
		} else if ok {
			s.Cursor, s.CursorAt = c.Position, c.UpdatedAt
		}
		counts, err := st.CountWritebacks(ctx)
		if err != nil {
			return nil, err
		}
		for state, n := range counts {
			s.Records += n
			if state == store.WritebackWritten {
				s.InCRM = n // the order number is on the deal
				continue
			}
			s.Outbox[string(state)] = int(n)
		}
		if r, ok, err := st.LastRun(ctx, inbound.Stream); err != nil {
			return nil, err
		} else if ok {
			s.LastRun = newRunStatus(r)
		}
		out = append(out, s)
	}
	return out, nil
}

func newStatusCmd() *cobra.Command {
	var (
		path   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each stream's cursor, last run, records and outbox",
		Long: `Show, from the checkpoint store alone (nothing is connected to), each
stream's cursor, last full pass, last run and its counts, how many records
the CRM has, and the outbox (pending, failed, parked writes).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, st, err := openStore(cmd.Context(), path)
			if err != nil {
				return err
			}
			defer st.Close()
			ss, err := collectStatus(cmd.Context(), cfg, st)
			if err != nil {
				return fmt.Errorf("reading status: %w", err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"store": st.Path(), "streams": ss})
			}
			fmt.Fprintf(out, "store: %s\n\n", st.Path())
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "STREAM\tRECORDS\tIN CRM\tLAST RUN\tSTATUS\tREAD\tCREATED\tUPDATED\tFAILED\tOUTBOX\tLAST FULL PASS")
			for _, s := range ss {
				last, status, read, created, updated, failed := "never", "-", "-", "-", "-", "-"
				if r := s.LastRun; r != nil {
					last = r.StartedAt.Local().Format("2006-01-02 15:04:05")
					status = r.Status
					read, created = fmt.Sprint(r.Read), fmt.Sprint(r.Created)
					updated, failed = fmt.Sprint(r.Updated), fmt.Sprint(r.Failed)
				}
				full := "never"
				if !s.FullPassAt.IsZero() {
					full = s.FullPassAt.Local().Format("2006-01-02 15:04:05")
				}
				outbox := "empty"
				if s.Stream == inbound.Stream {
					outbox = fmt.Sprintf("%d sending, %d waiting for the ERP, %d rejected, %d missing ERP data",
						s.Outbox["submitting"]+s.Outbox["done"], s.Outbox["waiting"], s.Outbox["rejected"], s.Outbox["invalid"])
				} else if len(s.Outbox) > 0 {
					outbox = fmt.Sprintf("%d pending, %d failed, %d parked", s.Outbox["pending"]+s.Outbox["inflight"], s.Outbox["failed"], s.Outbox["parked"])
				}
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Stream, s.Records, s.InCRM, last, status,
					read, created, updated, failed, outbox, full)
			}
			return tw.Flush()
		},
	}
	configFlag(cmd, &path)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
