package main

import (
	"github.com/spf13/cobra"
)

// newRootCmd builds the command tree. Every subcommand lives in its own file
// and is added here, so the tree reads in one place.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "erpbridge",
		Short: "Keep an on-prem ERP in step with RD Station CRM",
		Long: `erpbridge keeps an on-prem ERP (TOTVS Protheus first) in step with RD Station CRM.

ERP customers, contacts and products become CRM organizations, contacts and
products: incrementally, without duplicates, inside RD Station's rate limit.
Start with "erpbridge demo"; see README.md.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError(err)
	})
	root.AddCommand(
		newDemoCmd(),
		newRunCmd(),
		newVersionCmd(),
		newSimCmd(),
		newProtheusSimCmd(),
		newValidateCmd(),
		newSyncCmd(),
		newStatusCmd(),
		newErrorsCmd(),
		newRunsCmd(),
		newHistoryCmd(),
		newMapCmd(),
		newAlertCmd(),
		newResyncCmd(),
		newCheckCmd(),
		newDoctorCmd(),
		newSupportBundleCmd(),
		newStagingDDLCmd(),
		newServiceCmd(),
		newSecretCmd(),
		newInitCmd(),
		newMarketingCmd(),
		newCRMCmd(),
	)
	return root
}
