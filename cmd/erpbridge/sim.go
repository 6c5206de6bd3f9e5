package main

import (
	"errors"
	"fmt"
	"net"

	"github.com/erpbridge/erpbridge/rdstation/rdsim"
	"github.com/spf13/cobra"
)

func newSimCmd() *cobra.Command {
	var (
		addr   string
		tokens []string
		rpm    int
		mktRPM int
		seed   int64
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Serve the RD Station CRM simulator until interrupted",
		Long: `Serve an in-memory simulator of RD Station CRM API v1 (the contract in
rdstation/rdsim/README.md): the documented limits, error bodies and quirks,
fault injection and admin endpoints under /_sim/. State lives in memory and is
lost when the simulator stops.`,
		Example: `  erpbridge sim --addr 127.0.0.1:8089 --token t
  curl "http://127.0.0.1:8089/api/v1/token/check?token=t"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return usageError(fmt.Errorf("parsing --addr %q: %w", addr, err))
			}
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return usageError(fmt.Errorf("--addr %q: the simulator only listens on the loopback interface (127.0.0.1, ::1 or localhost)", addr))
			}
			if len(tokens) == 0 {
				return usageError(errors.New("--token: at least one API token is required"))
			}
			out := cmd.OutOrStdout()
			opts := rdsim.Options{Tokens: tokens, RequestsPerMinute: rpm, Seed: seed,
				Marketing: rdsim.MarketingOptions{RequestsPerMinute: mktRPM}}
			err = rdsim.Serve(cmd.Context(), addr, opts, func(baseURL string) {
				fmt.Fprintf(out, "RD Station CRM simulator listening\n  base URL: %s\n  token:    %s\n  admin:    %s\nPress Ctrl+C to stop.\n",
					baseURL, tokens[0], adminURL(baseURL))
			})
			if err != nil {
				return fmt.Errorf("serving simulator: %w", err)
			}
			fmt.Fprintln(out, "simulator stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8089", "loopback address to listen on")
	cmd.Flags().StringSliceVar(&tokens, "token", []string{"sim-token"}, "accepted API token (repeat for more users)")
	cmd.Flags().IntVar(&rpm, "rpm", 120, "requests per minute per account before 429 (negative = unlimited)")
	cmd.Flags().IntVar(&mktRPM, "marketing-rpm", 120, "RD Station Marketing requests per minute per account before 429, for the contacts API and apart for the events API (negative = unlimited)")
	cmd.Flags().Int64Var(&seed, "seed", 1, "seed for ids and injected faults")
	return cmd
}

// adminURL turns http://host/api/v1 into http://host/_sim.
func adminURL(baseURL string) string {
	const suffix = "/api/v1"
	if len(baseURL) >= len(suffix) && baseURL[len(baseURL)-len(suffix):] == suffix {
		return baseURL[:len(baseURL)-len(suffix)] + "/_sim"
	}
	return baseURL + "/_sim"
}
