package main

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/installer/layout"
	"github.com/spf13/cobra"
)

// configFlag adds the --config/-c flag shared by commands that read a config.
func configFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVarP(path, "config", "c", defaultConfigPath(os.Getenv, fileExists, layout.Host()),
		"configuration file (default $ERPBRIDGE_CONFIG, else ./erpbridge.toml when it exists, else the installed one)")
}

// defaultConfigPath is the default --config: $ERPBRIDGE_CONFIG when set,
// else erpbridge.toml in the working folder when it exists, else the
// platform's installed config (/etc/erpbridge/erpbridge.toml,
// %ProgramData%\erpbridge\erpbridge.toml).
func defaultConfigPath(getenv func(string) string, exists func(string) bool, l layout.Layout) string {
	if p := getenv("ERPBRIDGE_CONFIG"); p != "" {
		return p
	}
	if exists(layout.ConfigFileName) {
		return layout.ConfigFileName
	}
	return l.ConfigFile()
}

// fileExists reports whether path names an existing file or folder.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// loadConfig loads and validates the configuration; any problem is a usage
// error (exit 2).
func loadConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, usageError(err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, usageError(fmt.Errorf("%s is not valid:\n%w", cfg.Path(), err))
	}
	return cfg, nil
}

func newValidateCmd() *cobra.Command {
	var path, other string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration without connecting to anything",
		Long: `Load the configuration strictly (unknown keys and wrong types are errors that
name the key and its line), expand ${ENV} references and check every value.
Nothing is connected to: use "erpbridge check" to test the ERP and the CRM.

With --compare OTHER.toml, also list every setting the two files give
different values, with the lines that set them ("default" when a file leaves
it to the default), besides DSNs and secrets (keys dsn, token, password),
which differ by design between homologação and produção (a password in any
other URL is masked, and two URLs differing by it alone are alike). References
(${NAME}, ${secret:NAME}) are compared as written, not expanded; OTHER is
only read, so it may name secrets this machine does not have.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s is valid\n", cfg.Path())
			if other == "" {
				return nil
			}
			diffs, err := config.Compare(cfg.Path(), other)
			if err != nil {
				return usageError(fmt.Errorf("--compare: %w", err))
			}
			printDifferences(out, other, diffs)
			return nil
		},
	}
	configFlag(cmd, &path)
	cmd.Flags().StringVar(&other, "compare", "", "another configuration file (e.g. production's) to list the settings that differ, DSNs and secrets left out")
	return cmd
}

// printDifferences prints Compare's differences as a table.
func printDifferences(out io.Writer, other string, diffs []config.Difference) {
	if len(diffs) == 0 {
		fmt.Fprintf(out, "%s sets everything alike, DSNs and secrets left out\n", other)
		return
	}
	fmt.Fprintf(out, "%d setting(s) differ from %s (DSNs and secrets left out):\n", len(diffs), other)
	where := func(value string, line int) string {
		if value == "" {
			value = "(not set)"
		}
		if line == 0 {
			return value + "  (default)"
		}
		return fmt.Sprintf("%s  (line %d)", value, line)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "  KEY\tTHIS FILE\tOTHER FILE")
	for _, d := range diffs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", d.Key, where(d.This, d.ThisLine), where(d.Other, d.OtherLine))
	}
	_ = tw.Flush()
}
