package main

import (
	"fmt"
	"os"

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
	var path string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check the configuration without connecting to anything",
		Long: `Load the configuration strictly (unknown keys and wrong types are errors that
name the key and its line), expand ${ENV} references and check every value.
Nothing is connected to: use "erpbridge check" to test the ERP and the CRM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is valid\n", cfg.Path())
			return nil
		},
	}
	configFlag(cmd, &path)
	return cmd
}
