package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
)

func newCheckCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Connect to the ERP and the CRM and check everything the config needs",
		Long: `Connect to both sides and check what the configuration needs:

  CRM: the token; the pipelines and their stages, the users and the custom
       fields (with their options) are listed, and every custom field label
       the mappings use is resolved.
  ERP: every configured table and column exists; tables without S_T_A_M_P_
       are reported (they are synced by full passes only). With
       erp.source = "rest": one GET of page 1 of every route the streams
       read, with its status, its item count and the fields it lacks.

Each enabled component says what it checks. Exits 1 with the reasons when
anything is wrong.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			problems := runCheck(ctx, cmd.OutOrStdout(), cfg)
			if len(problems) > 0 {
				return fmt.Errorf("check found %d problem(s):\n  - %s", len(problems), strings.Join(problems, "\n  - "))
			}
			fmt.Fprintln(cmd.OutOrStdout(), "\nall checks passed")
			return nil
		},
	}
	configFlag(cmd, &path)
	return cmd
}

// runCheck opens the target system and the ERP, asks every component what
// it finds (component.Checker), prints it by section and returns the
// problems.
func runCheck(ctx context.Context, out io.Writer, cfg *config.Config) []string {
	var problems []string
	show := func(f component.Finding) {
		fmt.Fprintln(out, f.String())
		if f.Problem {
			problems = append(problems, f.Text)
		}
	}
	env := &component.Env{Configs: cfg.Components(), Log: zap.NewNop(), Clock: clock.Real{}}
	var target, erpc, streams []component.Component
	for _, c := range component.All() {
		switch component.KindOf(c) {
		case component.KindTarget:
			target = append(target, c)
		case component.KindERP:
			erpc = append(erpc, c)
		default:
			streams = append(streams, c)
		}
	}
	findings := func(comps []component.Component, enabledOnly bool) []component.Finding {
		var fs []component.Finding
		for _, c := range comps {
			s, _ := cfg.Component(c.Name())
			if ch, ok := s.(component.Checker); ok && (!enabledOnly || s.Enabled()) {
				fs = append(fs, ch.Check(ctx, env)...)
			}
		}
		return fs
	}
	heading := func(comps []component.Component, fallback string) string {
		for _, c := range comps {
			s, _ := cfg.Component(c.Name())
			if d, ok := s.(component.Describer); ok {
				return d.Describe()
			}
		}
		return fallback
	}

	fmt.Fprintln(out, heading(target, "CRM"))
	crm, err := wiring.OpenTarget(ctx, cfg, wiring.Options{})
	if err != nil {
		show(component.Finding{Problem: true, Text: err.Error()})
	} else {
		env.CRM = crm
		for _, f := range findings(target, false) {
			show(f)
		}
	}
	erp, err := wiring.OpenERP(ctx, cfg)
	if err == nil {
		defer erp.Close()
		env.ERP = erp
	}
	streamFindings := findings(streams, true)
	for _, f := range streamFindings {
		if f.Section == component.SectionCRM {
			show(f)
		}
	}

	fmt.Fprintln(out, "\n"+heading(erpc, "ERP"))
	if err != nil {
		show(component.Finding{Problem: true, Text: fmt.Sprintf("opening the ERP: %v", err)})
		return problems
	}
	for _, f := range findings(erpc, false) {
		show(f)
	}
	for _, f := range streamFindings {
		if f.Section == component.SectionERP {
			show(f)
		}
	}
	return problems
}
