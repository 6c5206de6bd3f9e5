package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
	"github.com/spf13/cobra"
)

// errorFilterFlags adds the flags that select outbox errors.
func errorFilterFlags(cmd *cobra.Command, stream, level *string, since *time.Duration) {
	cmd.Flags().StringVar(stream, "stream", "", "only this stream")
	cmd.Flags().StringVar(level, "level", "", "only this level: skip (bad ERP data) or error (API or unexpected)")
	cmd.Flags().DurationVar(since, "since", 0, "only errors from the last duration, e.g. 24h")
}

func errorFilter(stream, level string, since time.Duration) (store.OutboxFilter, error) {
	f := store.OutboxFilter{Stream: stream, Level: store.Level(level)}
	switch f.Level {
	case store.LevelNone, store.LevelSkip, store.LevelError:
	default:
		return f, usageError(fmt.Errorf("--level %q: use skip or error", level))
	}
	if since > 0 {
		f.Since = time.Now().Add(-since)
	}
	return f, nil
}

// withWonDeals reports whether the --stream and --level filters take in the
// won deals that did not become ERP orders: stream won_deals, level skip
// (the ERP refused them or they lack ERP data).
func withWonDeals(stream, level string) bool {
	return (stream == "" || stream == inbound.Stream) && level != string(store.LevelError)
}

func newErrorsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "errors",
		Short: "List or retry records that failed",
		Long: `Records the CRM refused or that could not be mapped wait in the outbox:
level "skip" is bad ERP data (an invalid e-mail, a CNPJ with a wrong check
digit), fixed by correcting the ERP record (the next sync sends it again);
level "error" is an API failure or outage, retried automatically with backoff
and parked after repeated failures. Won deals that did not become ERP orders
(stream won_deals: the ERP refused the order, or the deal's organization or
products have no ERP counterpart) are listed with the deal's id and name;
retry sends them again once the cause is fixed.

Warnings (state "warning", level "skip") are records that were synced
without something that is invalid in the ERP (a CNPJ with a wrong check
digit, an e-mail without '@': see on_invalid in docs/mapping.md) or without
an e-mail another ERP contact already has (streams.contacts.shared_email),
and contacts left out on purpose, with why (streams.contacts.unlinked).
They are not failures and need no retry: a warning goes away when the
record is corrected in the ERP and synced again.`,
	}
	cmd.AddCommand(newErrorsListCmd(), newErrorsRetryCmd())
	return cmd
}

func newErrorsListCmd() *cobra.Command {
	var (
		path, stream, level string
		since               time.Duration
		asJSON              bool
		limit               int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List failed and parked records with their ERP key and reason",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := errorFilter(stream, level, since)
			if err != nil {
				return err
			}
			f.Limit = limit
			_, st, err := openStore(cmd.Context(), path)
			if err != nil {
				return err
			}
			defer st.Close()
			items, err := st.Errors(cmd.Context(), f)
			if err != nil {
				return fmt.Errorf("listing errors: %w", err)
			}
			if lim := f.Limit; lim <= 0 || len(items) < lim { // --limit bounds the whole list
				ws, err := st.Warnings(cmd.Context(), store.OutboxFilter{Stream: f.Stream, Level: f.Level, Since: f.Since,
					Limit: max(lim-len(items), 0)})
				if err != nil {
					return fmt.Errorf("listing errors: %w", err)
				}
				for _, w := range ws {
					items = append(items, warningItem(w))
				}
			}
			if withWonDeals(stream, level) {
				// --limit bounds the whole list (the outbox's errors first).
				lim := limit
				if lim <= 0 {
					lim = 1000 // as the outbox's listing
				}
				wbs, err := st.WritebackProblems(cmd.Context(), max(lim-len(items), 0))
				if err != nil {
					return fmt.Errorf("listing errors: %w", err)
				}
				for _, w := range wbs {
					if f.Since.IsZero() || w.UpdatedAt.After(f.Since) {
						items = append(items, store.OutboxItem{Stream: inbound.Stream, ERPKey: "deal " + w.DealID, CRMID: w.DealID,
							State: store.State(w.State), Level: store.LevelSkip, Attempts: w.Attempts, UpdatedAt: w.UpdatedAt,
							LastError: fmt.Sprintf("%q: %s", w.DealName, w.Error)})
					}
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				type row struct {
					ID        int64     `json:"id"`
					Stream    string    `json:"stream"`
					ERPKey    string    `json:"erp_key"`
					CRMID     string    `json:"crm_id,omitempty"`
					State     string    `json:"state"`
					Level     string    `json:"level"`
					Attempts  int       `json:"attempts"`
					NextTry   time.Time `json:"next_attempt_at,omitzero"`
					UpdatedAt time.Time `json:"updated_at"`
					Error     string    `json:"error"`
				}
				rows := make([]row, 0, len(items))
				for _, it := range items {
					rows = append(rows, row{it.ID, it.Stream, it.ERPKey, it.CRMID, string(it.State), string(it.Level), it.Attempts, it.NextAttemptAt, it.UpdatedAt, it.LastError})
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			if len(items) == 0 {
				fmt.Fprintln(out, "no errors")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTREAM\tERP KEY\tSTATE\tLEVEL\tATTEMPTS\tUPDATED\tERROR")
			for _, it := range items {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", it.ID, it.Stream, it.ERPKey, it.State, it.Level, it.Attempts,
					it.UpdatedAt.Local().Format("2006-01-02 15:04"), strings.ReplaceAll(it.LastError, "\n", " "))
			}
			return tw.Flush()
		},
	}
	configFlag(cmd, &path)
	errorFilterFlags(cmd, &stream, &level, &since)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().IntVar(&limit, "limit", 1000, "at most this many")
	return cmd
}

// warningState is the state errors list shows warnings in.
const warningState = "warning"

// warningItem is how errors list shows a warning: a record synced without
// what its text says, or not synced for the reason it gives.
func warningItem(w store.Warning) store.OutboxItem {
	return store.OutboxItem{Stream: w.Stream, Entity: w.Entity, ERPKey: w.ERPKey, State: warningState,
		Level: store.LevelSkip, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt, LastError: w.Text}
}

func newErrorsRetryCmd() *cobra.Command {
	var (
		path, stream, level string
		since               time.Duration
	)
	cmd := &cobra.Command{
		Use:   "retry",
		Short: "Make failed and parked records due again on the next sync",
		Long: `Make failed and parked records due now. The next sync (or the running
service's next poll) sends them again; records queued for bad data are read
again from the ERP first, so a corrected record goes out as it is now.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := errorFilter(stream, level, since)
			if err != nil {
				return err
			}
			_, st, err := openStore(cmd.Context(), path)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := st.RetryParked(cmd.Context(), f)
			if err != nil {
				return fmt.Errorf("retrying: %w", err)
			}
			if withWonDeals(stream, level) {
				m, err := st.RetryWritebacks(cmd.Context(), f.Since)
				if err != nil {
					return fmt.Errorf("retrying: %w", err)
				}
				n += m
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d records will be retried on the next sync\n", n)
			return nil
		},
	}
	configFlag(cmd, &path)
	errorFilterFlags(cmd, &stream, &level, &since)
	return cmd
}

func newResyncCmd() *cobra.Command {
	var path string
	var newAccount bool
	cmd := &cobra.Command{
		Use:   "resync STREAM | resync --new-account",
		Short: "Send every record of a stream again on its next sync",
		Long: `Forget the fingerprints of a stream's records and its cursor, so the next
sync reads the whole table and sends every record again. CRM ids are kept:
records are updated, never duplicated. Use it after changing data in the CRM
by hand, or to push a mapping change without bumping its version.

With --new-account (and no stream), forget everything the store knows of the
CRM it was filled from — CRM ids, cursors, pending writes, won-deal records —
for a data_dir now pointed at another CRM account (or at a CRM emptied since):
the next sync reads every ERP record again and looks each up in the CRM by its
natural key, adopting it when found and creating it when not. The run history
is kept. Stop the service first.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if newAccount {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			if newAccount {
				st, err := wiring.OpenStore(cmd.Context(), cfg)
				if err != nil {
					return err
				}
				defer st.Close()
				n, err := st.ForgetCRM(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "forgot %d CRM ids and every cursor: the next sync reads the whole ERP and "+
					"adopts or creates each record in the CRM the configuration now reaches\n", n)
				return nil
			}
			name := args[0]
			entity := cfg.Entity(name)
			if entity == "" || name == inbound.Stream {
				return usageError(fmt.Errorf("unknown stream %q: the enabled streams are %s", name, strings.Join(wiring.StreamNames(cfg), ", ")))
			}
			st, err := wiring.OpenStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := st.ForgetFingerprints(cmd.Context(), entity)
			if err != nil {
				return fmt.Errorf("forgetting fingerprints: %w", err)
			}
			if err := st.Update(cmd.Context(), func(tx *store.Tx) error { return tx.SetCursor(name, "") }); err != nil {
				return fmt.Errorf("resetting cursor: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d %s records will be sent again on the next sync (a full pass); CRM ids are kept\n", n, name)
			return nil
		},
	}
	cmd.Flags().BoolVar(&newAccount, "new-account", false, "forget the CRM the store was filled from (the data_dir now serves another CRM account)")
	configFlag(cmd, &path)
	return cmd
}
