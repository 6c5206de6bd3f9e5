package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

func newSyncCmd() *cobra.Command {
	var (
		path   string
		once   bool
		stream string
		dry    bool
		full   bool
	)
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Sync once and exit",
		Long: `Sync every enabled stream (or one, with --stream) once and exit: read what
changed in the ERP since the last run, skip what is unchanged, write the rest
to the CRM, and print per stream what was created, updated, unchanged,
skipped or failed, with the API calls used.

--dry-run computes the same without writing anything anywhere (CRM or
checkpoint store) and prints sample payloads. --full reads every row instead
of the changes (it also covers rows with NULL stamps).

Exit code 3 means the sync ran but some records failed: see "erpbridge errors".
A record synced without an invalid field (a warning, also listed there) is
not a failure.`,
		Example: `  erpbridge sync --once -c erpbridge.toml
  erpbridge sync --once --stream customers --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_ = once // sync always runs once; the flag reads well in scripts
			if stream != "" {
				cfg, err := loadConfig(path)
				if err != nil {
					return err
				}
				names := wiring.StreamNames(cfg)
				if cfg.Inbound() {
					names = append(names, inbound.Stream)
				}
				if !slices.Contains(names, stream) {
					return usageError(fmt.Errorf("--stream %q: enabled streams are %s", stream, strings.Join(names, ", ")))
				}
			}
			stopProgress := func() {}
			b, _, closeAll, err := openBridge(cmd.Context(), path, cmd.ErrOrStderr(), dry,
				func(console io.Writer, log *zap.Logger) bridge.Observer {
					obs, done := syncProgress(console, log)
					stopProgress = done
					return obs
				})
			if err != nil {
				stopProgress()
				return err
			}
			defer closeAll()
			so := bridge.SyncOptions{Full: full, DryRun: dry}
			var reps []bridge.Report
			switch stream {
			case inbound.Stream:
			case "":
				reps, err = b.Engine.SyncAll(cmd.Context(), so)
			default:
				rep, serr := b.Engine.Sync(cmd.Context(), stream, so)
				reps, err = []bridge.Report{rep}, serr
			}
			stopProgress()
			out := cmd.OutOrStdout()
			if stream != inbound.Stream {
				printReports(out, reps, dry)
			}
			for _, n := range b.DryRunNotes {
				if dry && (stream == "" || stream == n.Stream) {
					fmt.Fprintf(out, "%s: %s\n", n.Stream, n.Text)
				}
			}
			if err != nil && cmd.Context().Err() != nil && errors.Is(err, cmd.Context().Err()) {
				// Ctrl-C or SIGTERM: not a failure of the sync, but it did not finish.
				return &exitError{code: ExitFailure, err: errors.New("interrupted by a stop request; the next sync goes on from where this one stopped")}
			}
			if err != nil {
				return err
			}
			if b.WonDeals != nil && !dry && (stream == "" || stream == inbound.Stream) {
				run := b.WonDeals.Run
				if full {
					run = b.WonDeals.Sweep // --full looks back over the sweep window
				}
				rep, err := run(cmd.Context())
				printWonDeals(out, rep)
				if err != nil {
					return fmt.Errorf("won deals: %w", err)
				}
				if rep.Rejected+rep.Invalid+rep.Lost+rep.Unsent > 0 {
					return &exitError{code: ExitPartial, err: errors.New("some won deals did not become ERP orders (yet); see above and erpbridge errors list")}
				}
			}
			for _, r := range reps {
				if r.Stats.Failed > 0 && !dry {
					return &exitError{code: ExitPartial, err: errors.New("some records failed; see erpbridge errors list")}
				}
			}
			return nil
		},
	}
	configFlag(cmd, &path)
	cmd.Flags().BoolVar(&once, "once", true, "sync once and exit (the only mode of this command; erpbridge run schedules)")
	cmd.Flags().StringVar(&stream, "stream", "", "sync only this stream (customers, contacts, customer_contacts, products, orders, won_deals)")
	cmd.Flags().BoolVar(&dry, "dry-run", false, "show what would be written, write nothing")
	cmd.Flags().BoolVar(&full, "full", false, "read every row, not only the changes")
	return cmd
}

// printWonDeals writes what the won-deal poll did.
func printWonDeals(out io.Writer, r inbound.Report) {
	fmt.Fprintf(out, "won deals: %d listed (%d already handled or from ERP orders)\n", r.Listed, r.Skipped)
	for _, l := range []struct {
		n    int
		what string
	}{
		{r.Sent, "sent to the ERP"},
		{r.Waiting, "waiting for the ERP job (staged)"},
		{r.Ordered, "with their ERP order number written back"},
		{r.Rejected, "rejected by the ERP (see erpbridge errors list)"},
		{r.Invalid, "missing ERP data: organization, products or their ERP counterparts (see erpbridge errors list)"},
		{r.Lost, "sent, answer lost: asked again next run (the order may exist; it is never made twice)"},
		{r.Unsent, "not sent: the ERP could not be reached; sent again next run"},
		{r.OtherPipeline, "won in pipelines not in won_deals.pipelines: skipped, no ERP orders"},
	} {
		if l.n > 0 {
			fmt.Fprintf(out, "  %d %s\n", l.n, l.what)
		}
	}
	if r.FirstFailure != "" {
		fmt.Fprintf(out, "  first failure: %s\n", r.FirstFailure)
	}
}

// printReports writes the per-stream table, and for a dry run the samples.
func printReports(out io.Writer, reps []bridge.Report, dry bool) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	verb := ""
	if dry {
		verb = " (dry run: nothing written)"
	}
	fmt.Fprintf(out, "sync%s\n", verb)
	fmt.Fprintln(tw, "stream\tkind\tread\tcreated\tupdated\tunchanged\tskipped\tfailed\tAPI calls\ttime\t")
	for _, r := range reps {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", r.Stream, r.Kind, r.Stats.Read, r.Stats.Created,
			r.Stats.Updated, r.Stats.Unchanged, r.Stats.Skipped, r.Stats.Failed, r.Stats.APICalls, r.Duration.Round(1e6))
	}
	_ = tw.Flush()
	for _, r := range reps {
		if r.Warned > 0 {
			what := "synced"
			if dry {
				what = "to be synced"
			}
			fmt.Fprintf(out, "%s: %d records %s without an invalid field or a shared e-mail (warnings: erpbridge errors list)\n", r.Stream, r.Warned, what)
		}
		if r.Err != nil {
			fmt.Fprintf(out, "%s: %v\n", r.Stream, r.Err)
		}
	}
	if !dry {
		return
	}
	for _, r := range reps {
		for _, s := range r.Samples {
			line := fmt.Sprintf("%s %s %s", r.Stream, s.Action, s.ERPKey)
			if s.CRMID != "" {
				line += " → " + s.CRMID
			}
			if s.Reason != "" {
				line += ": " + s.Reason
			}
			fmt.Fprintln(out, line)
			if s.Payload != nil {
				b, _ := json.MarshalIndent(s.Payload, "    ", "  ")
				fmt.Fprintf(out, "    %s\n", b)
			}
		}
	}
}
