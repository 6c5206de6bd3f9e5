package main

import (
	"errors"
	"fmt"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/spf13/cobra"
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
			for _, c := range component.All() {
				s, _ := cfg.Component(c.Name())
				if sc, ok := s.(component.Scripter); ok {
					script, err := sc.DDL(database, cfg.Component)
					if err != nil {
						return usageError(err)
					}
					fmt.Fprint(cmd.OutOrStdout(), script)
					return nil
				}
			}
			return errors.New("no component needs staging tables")
		},
	}
	configFlag(cmd, &path)
	cmd.Flags().StringVar(&database, "database", "", "sqlserver, oracle, postgres or sqlite (default: erp.driver)")
	return cmd
}
