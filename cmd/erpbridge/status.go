package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

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
	LastRun    *store.Run     `json:"last_run,omitempty"`
}

func collectStatus(ctx context.Context, cfg *config.Config, st *store.Store) ([]streamStatus, error) {
	counts, err := st.Count(ctx)
	if err != nil {
		return nil, err
	}
	var out []streamStatus
	for _, name := range wiring.StreamNames(cfg) {
		s := streamStatus{Stream: name, Entity: wiring.Entity(name), Outbox: map[string]int{}}
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
			s.LastRun = &r
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
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			st, err := wiring.OpenStore(cmd.Context(), cfg)
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
					status = string(r.Status)
					read, created = fmt.Sprint(r.Stats.Read), fmt.Sprint(r.Stats.Created)
					updated, failed = fmt.Sprint(r.Stats.Updated), fmt.Sprint(r.Stats.Failed)
				}
				full := "never"
				if !s.FullPassAt.IsZero() {
					full = s.FullPassAt.Local().Format("2006-01-02 15:04:05")
				}
				outbox := "empty"
				if len(s.Outbox) > 0 {
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
