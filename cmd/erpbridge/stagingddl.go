package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/erpbridge/erpbridge/erp/protheus"
)

func newStagingDDLCmd() *cobra.Command {
	var path, database string
	cmd := &cobra.Command{
		Use:   "staging-ddl",
		Short: "Print the SQL that creates the won-deal staging tables, for the ERP team",
		Long: `Print the SQL that creates the staging tables of won_deals.sink = "staging"
for the configured aliases (won_deals.staging, default ZB1/ZB2) and company
(erp.company), in the dialect of erp.driver or --database: the DDL of
docs/protheus.md, "The staging tables", with your names. Nothing is
connected to. Every statement is a plain CREATE: it replaces nothing, and a
name already in use makes it fail. "erpbridge check" then compares the
tables with the layout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			db := database
			if db == "" {
				db = cfg.ERP.Driver
			}
			if !slices.Contains(protheus.StagingDatabases, db) {
				return usageError(fmt.Errorf("--database: want one of %s (erp.driver is %q)", strings.Join(protheus.StagingDatabases, ", "), cfg.ERP.Driver))
			}
			a := cfg.WonDeals.Staging.Aliases()
			script, err := protheus.StagingScript(db, cfg.ERP.Company, a)
			if err != nil {
				return usageError(fmt.Errorf("won_deals.staging: %w", err))
			}
			header, items := a.Tables(cfg.ERP.Company)
			fmt.Fprintf(cmd.OutOrStdout(), "-- erpbridge staging tables %s (header, alias %s) and %s (items, alias %s), %s\n%s",
				header, a.Header, items, a.Items, db, script)
			return nil
		},
	}
	configFlag(cmd, &path)
	cmd.Flags().StringVar(&database, "database", "", "sqlserver, oracle, postgres or sqlite (default: erp.driver)")
	return cmd
}
