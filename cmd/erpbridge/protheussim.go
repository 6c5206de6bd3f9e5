package main

import (
	"errors"
	"fmt"
	"net"

	"github.com/spf13/cobra"

	"github.com/erpbridge/erpbridge/erp/protheus/restsim"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

func newProtheusSimCmd() *cobra.Command {
	var (
		addr, driver, dsn     string
		user, password, token string
		requirePaymentTerms   bool
		defaultPaymentTerms   string
	)
	cmd := &cobra.Command{
		Use:   "protheus-sim",
		Short: "Serve a Protheus-shaped ERP database through the REST routes the bridge expects",
		Long: `Serve the custom REST routes of docs/protheus.md over a Protheus-shaped
database (the demo's SQLite ERP, or the test fixture in PostgreSQL): paged reads
of customers, contacts, products, prices, orders and sellers, and the order
POST that won deals go to (validated like MATA410, idempotent on the deal id,
writing SC5/SC6 with C5_XCRMID). For trying [erp] source = "rest" and
won_deals.sink = "rest" by hand; not for production.`,
		Example: `  erpbridge demo --dir demo-data
  erpbridge protheus-sim --dsn demo-data/erp.db --addr 127.0.0.1:8090 --user bridge --password s3cret
  curl -u bridge:s3cret "http://127.0.0.1:8090/rest/customers?page=1&pageSize=2"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return usageError(fmt.Errorf("parsing --addr %q: %w", addr, err))
			}
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return usageError(fmt.Errorf("--addr %q: the simulator only listens on the loopback interface", addr))
			}
			if dsn == "" {
				return usageError(errors.New("--dsn: the ERP database is required (e.g. demo-data/erp.db from erpbridge demo --dir demo-data)"))
			}
			db, d, err := sqlerp.Open(driver, dsn)
			if err != nil {
				return usageError(err)
			}
			defer db.Close()
			sim, err := restsim.New(cmd.Context(), db, d, restsim.Options{User: user, Password: password, Token: token,
				RequirePaymentTerms: requirePaymentTerms, DefaultPaymentTerms: defaultPaymentTerms})
			if err != nil {
				return fmt.Errorf("starting the Protheus REST simulator: %w", err)
			}
			out := cmd.OutOrStdout()
			err = restsim.Serve(cmd.Context(), addr, sim, func(baseURL string) {
				fmt.Fprintf(out, "Protheus REST simulator listening\n  base URL: %s\n  orders:   POST %s/orders\nPress Ctrl+C to stop.\n", baseURL, baseURL)
				for name, why := range sim.Unavailable() {
					fmt.Fprintf(out, "  route %s not served: %s\n", name, why)
				}
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(out, "Protheus REST simulator stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8090", "loopback address to listen on")
	cmd.Flags().StringVar(&driver, "driver", "sqlite", "database driver: sqlite or postgres (a Protheus-shaped database)")
	cmd.Flags().StringVar(&dsn, "dsn", "", "the database: a SQLite file, or a postgres:// URL")
	cmd.Flags().StringVar(&user, "user", "", "require Basic auth with this user (and --password)")
	cmd.Flags().StringVar(&password, "password", "", "the Basic auth password")
	cmd.Flags().StringVar(&token, "token", "", "require this bearer token")
	cmd.Flags().BoolVar(&requirePaymentTerms, "require-payment-terms", false, "reject orders without paymentTerms, as MATA410 does without a default")
	cmd.Flags().StringVar(&defaultPaymentTerms, "default-payment-terms", "", "payment terms for orders that send none")
	return cmd
}
