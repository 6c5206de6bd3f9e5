package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
)

// doctorTimeout bounds a doctor run (a COUNT(*) per table, one poll each).
const doctorTimeout = 10 * time.Minute

func newDoctorCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Examine the ERP's database, read-only: server, tables, the polls' plans",
		Long: `Examine the ERP's database for its team, before go-live (in homologação) and
in production when the bridge is slow. Nothing is written anywhere and the
CRM is not contacted. Each finding has a verdict (ok, WARN, FAIL) and, when
something is to be done, the fix:

  server: version and settings; how text compares (trailing blanks, case:
          the collation, SQL Server *_BIN vs *_CI_AS, Oracle NLS); the
          database's clock against this machine's.
  tables: for every table the enabled streams read: rows and rows with a
          NULL S_T_A_M_P_; whether an index on S_T_A_M_P_ exists and the
          incremental poll's plan uses it (EXPLAIN, SHOWPLAN_TEXT,
          DBMS_XPLAN of the exact SQL the bridge runs); the poll timed, with
          the rows it read; lock waits while it read.

Exits 1 when a finding is FAIL.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), doctorTimeout)
			defer cancel()
			if n := runDoctor(ctx, cmd.OutOrStdout(), cfg); n > 0 {
				return fmt.Errorf("doctor found %d problem(s): see FAIL above, each with its fix", n)
			}
			return nil
		},
	}
	configFlag(cmd, &path)
	return cmd
}

// runDoctor opens the ERP, asks the ERP component for its diagnoses
// (component.Doctor), prints them and returns how many findings failed.
func runDoctor(ctx context.Context, out io.Writer, cfg *config.Config) (problems int) {
	env := &component.Env{Configs: cfg.Components(), Log: zap.NewNop(), Clock: clock.Real{}}
	var diags []component.Diagnosis
	for _, c := range component.All() {
		s, _ := cfg.Component(c.Name())
		d, ok := s.(component.Doctor)
		if !ok {
			continue
		}
		heading := c.Name()
		if h, ok := s.(component.Describer); ok {
			heading = h.Describe()
		}
		fmt.Fprintf(out, "erpbridge doctor, read-only: %s\n", heading)
		if env.ERP == nil {
			erp, err := wiring.OpenERP(ctx, cfg)
			if err != nil {
				diags = append(diags, component.Diagnosis{Subject: heading, Findings: []component.Finding{{Problem: true, Text: fmt.Sprintf("opening the ERP: %v", err)}}})
				continue
			}
			defer erp.Close()
			env.ERP = erp
		}
		diags = append(diags, d.Doctor(ctx, env)...)
	}
	var ok, warn int
	for _, d := range diags {
		fmt.Fprintln(out, "\n"+d.Subject)
		for _, f := range d.Findings {
			fmt.Fprintln(out, f.String())
			switch {
			case f.Problem:
				problems++
			case f.Warn:
				warn++
			case !f.Detail:
				ok++
			}
		}
	}
	fmt.Fprintf(out, "\n%d ok, %d warning(s), %d problem(s)\n", ok, warn, problems)
	return problems
}
