package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/store"
)

// The components the marketing commands ask for, by name: the command
// stays vendor-neutral (the settings do the work).
const (
	marketingSystem   = "marketing"
	marketingContacts = "marketing_contacts"
)

// authorizer is a target system's settings that walk an OAuth2 code flow
// with a person (rdstation/marketing/target).
type authorizer interface {
	Authorize(ctx context.Context, st *store.Store, code string, in io.Reader, out io.Writer, o component.OpenOptions) error
}

// forgetter is a contacts stream's settings that keep an e-mail out of
// the target for good.
type forgetter interface {
	Forget(ctx context.Context, st *store.Store, email string) error
}

func newMarketingCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "marketing",
		Short: "RD Station Marketing: authorize the app, forget a contact",
		Long: `RD Station Marketing ([marketing], docs/marketing.md).

  authorize   let the app into the Marketing account (once, by an admin)
  forget      keep an e-mail out of Marketing for good (a deletion request)`,
	}
	cmd.AddCommand(newMarketingAuthorizeCmd(), newMarketingForgetCmd())
	return cmd
}

func newMarketingAuthorizeCmd() *cobra.Command {
	var path, code string
	cmd := &cobra.Command{
		Use:   "authorize",
		Short: "Let the app into the RD Station Marketing account and store its grant",
		Long: `Print the page an admin of the RD Station Marketing account opens to let the
app in (marketing.client_id, marketing.redirect_uri), read back the address
the browser was sent to (or only its code), and store the account's grant in
the checkpoint store. The refresh token never goes into the configuration.
Run it again when check says the grant was refused.`,
		Example: `  erpbridge marketing authorize -c erpbridge.toml
  erpbridge marketing authorize --code 1a2b3c…`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, st, err := openStore(cmd.Context(), path)
			if err != nil {
				return err
			}
			defer st.Close()
			c, ok := cfg.Component(marketingSystem)
			a, can := c.(authorizer)
			if !ok || !can {
				return errors.New("this build has no RD Station Marketing target system")
			}
			return a.Authorize(cmd.Context(), st, code, cmd.InOrStdin(), cmd.OutOrStdout(), component.OpenOptions{})
		},
	}
	configFlag(cmd, &path)
	cmd.Flags().StringVar(&code, "code", "", "the code from the callback address (skips the prompt)")
	return cmd
}

func newMarketingForgetCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "forget EMAIL",
		Short: "Keep an e-mail out of RD Station Marketing for good (a deletion request)",
		Long: `Put EMAIL on the bridge's deletion list: no stream sends it to RD Station
Marketing again, whatever the ERP holds (the list keeps a hash of it, not the
address). Delete the contact in RD Station Marketing too: the bridge never
deletes Marketing contacts itself (docs/marketing.md, "Opt-out and deletion").`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, st, err := openStore(cmd.Context(), path)
			if err != nil {
				return err
			}
			defer st.Close()
			c, ok := cfg.Component(marketingContacts)
			f, can := c.(forgetter)
			if !ok || !can {
				return errors.New("this build has no Marketing contacts stream")
			}
			if err := f.Forget(cmd.Context(), st, args[0]); err != nil {
				return usageError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s will not be sent to RD Station Marketing again; delete the contact there too.\n", args[0])
			return nil
		},
	}
	configFlag(cmd, &path)
	return cmd
}
