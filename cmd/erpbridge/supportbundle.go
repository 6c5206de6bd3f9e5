package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/bundle"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
)

// bundleRuns is how many of the last runs a support bundle lists.
const bundleRuns = 50

func newSupportBundleCmd() *cobra.Command {
	var (
		path, output string
		logLines     int
		noDoctor     bool
	)
	cmd := &cobra.Command{
		Use:   "support-bundle",
		Short: "Write one zip for support: config (redacted), validate, check, doctor, status, runs, errors, log",
		Long: `Write one zip to send to whoever supports this installation:

  README.txt     what the bundle holds and when it was made
  versions.txt   erpbridge's version, the operating system's, the database's
  config.toml    the configuration file with every token and password
                 masked, DSN and URL passwords masked, comments removed;
                 ${NAME} and ${secret:NAME} kept as written (never resolved)
  validate.txt, check.txt, doctor.txt
                 what those commands print (check contacts the ERP and the
                 CRM, and leaves out the CRM's users and the token's owner;
                 doctor reads the ERP's tables: --no-doctor skips it)
  status.json    erpbridge status --json
  runs.json      the last 50 runs of every stream
  errors.json    the open errors (erpbridge errors list --json)
  log.txt        the last --log-lines lines of log.file

Every file is scrubbed of the secrets the configuration holds (tokens,
passwords, DSN passwords, ${secret:…} values) before it is written. The
records it names are those the errors and logs name (ERP keys, CRM ids).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output == "" {
				output = "erpbridge-support-" + time.Now().Format("20060102-150405") + ".zip"
			}
			if err := writeSupportBundle(cmd.Context(), path, output, logLines, !noDoctor); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: secrets masked; read it before sending it\n", output)
			return nil
		},
	}
	configFlag(cmd, &path)
	cmd.Flags().StringVarP(&output, "output", "o", "", "the zip to write (default erpbridge-support-YYYYMMDD-HHMMSS.zip here)")
	cmd.Flags().IntVar(&logLines, "log-lines", 2000, "how many of the log's last lines to include")
	cmd.Flags().BoolVar(&noDoctor, "no-doctor", false, "leave out doctor (it counts every table's rows)")
	return cmd
}

// writeSupportBundle writes the support bundle of the config at path to
// output. A part that cannot be made says why in its place; only a
// configuration that cannot be read at all, or a zip that cannot be
// written, is an error.
func writeSupportBundle(ctx context.Context, path, output string, logLines int, doctor bool) (err error) {
	now := time.Now()
	redacted, err := config.Redacted(path)
	if err != nil {
		return usageError(err)
	}
	// The secrets to scrub are the loaded configuration's; a config that
	// does not load runs nothing but validate (its messages name keys and
	// lines, never a resolved value).
	cfg, loadErr := loadConfig(path)
	var secrets []string
	if loadErr == nil {
		secrets = cfg.SecretValues()
	}
	f, err := os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing the support bundle: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("writing the support bundle: %w", cerr)
		}
		if err != nil {
			os.Remove(output)
		}
	}()
	b := bundle.New(f, secrets, now)
	type part struct {
		name string
		make func() []byte
	}
	command := func(args ...string) func() []byte {
		return func() []byte { return runInProcess(ctx, append(args, "--config", path)...) }
	}
	skipped := func(why string) func() []byte { return func() []byte { return []byte(why + "\n") } }
	parts := []part{
		{"README.txt", func() []byte { return []byte(bundleReadme(now, path, loadErr)) }},
		{"config.toml", func() []byte { return redacted }},
		{"validate.txt", command("validate")},
	}
	if loadErr == nil {
		doctorPart := command("doctor")
		if !doctor {
			doctorPart = skipped("left out (--no-doctor)")
		}
		var doctorOut []byte
		parts = append(parts,
			part{"check.txt", func() []byte { return checkWithoutPeople(ctx, path, cfg) }},
			part{"doctor.txt", func() []byte { doctorOut = doctorPart(); return doctorOut }},
			part{"versions.txt", func() []byte { return []byte(bundleVersions(doctorOut)) }},
			part{"status.json", command("status", "--json")},
			part{"runs.json", func() []byte { return lastRuns(ctx, path) }},
			part{"errors.json", command("errors", "list", "--json")},
			part{"log.txt", func() []byte { return logTail(cfg, logLines) }},
		)
	} else {
		parts = append(parts, part{"versions.txt", func() []byte { return []byte(bundleVersions(nil)) }})
	}
	for _, p := range parts {
		if err := b.Add(p.name, p.make()); err != nil {
			return err
		}
	}
	if err := b.Close(); err != nil {
		return err
	}
	return nil
}

// runInProcess runs one erpbridge command, as the binary would, and
// returns what it printed, with how it ended.
func runInProcess(ctx context.Context, args ...string) []byte {
	var out bytes.Buffer
	fmt.Fprintf(&out, "$ erpbridge %s\n", strings.Join(args, " "))
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&out)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(&out, "erpbridge: %v\n(exit status %d)\n", err, exitCode(err))
	}
	return out.Bytes()
}

// checkWithoutPeople is the bundle's check.txt: what `erpbridge check`
// prints, but no finding that names a person (the token's owner, the
// CRM's users).
func checkWithoutPeople(ctx context.Context, path string, cfg *config.Config) []byte {
	var out bytes.Buffer
	fmt.Fprintf(&out, "$ erpbridge check --config %s   (findings naming a person left out)\n", path)
	if err := check(ctx, &out, cfg, false); err != nil {
		fmt.Fprintf(&out, "erpbridge: %v\n(exit status %d)\n", err, exitCode(err))
	}
	return out.Bytes()
}

// bundleReadme is the bundle's README.txt.
func bundleReadme(now time.Time, path string, loadErr error) string {
	s := fmt.Sprintf(`erpbridge support bundle, made %s from %s.
Tokens, passwords and DSN passwords are masked (REDACTED, xxxxx); comments
are removed from config.toml. See erpbridge support-bundle --help.
`, now.Format(time.RFC3339), path)
	if loadErr != nil {
		s += "\nThe configuration does not load (validate.txt says why): check, doctor,\nstatus, runs, errors and the log are left out.\n"
	}
	return s
}

// bundleVersions is the bundle's versions.txt: the bridge's, the
// operating system's and, from doctor's output, the database server's.
func bundleVersions(doctorOut []byte) string {
	db := "unknown (see doctor.txt)"
	lines := strings.Split(string(doctorOut), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "database server (") && i+1 < len(lines) {
			db = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lines[i+1]), "ok"))
			break
		}
	}
	return fmt.Sprintf("bridge:   %s\nos:       %s\ndatabase: %s\n", buildInfo(), bundle.OS(), db)
}

// lastRuns is the bundle's runs.json: the last runs of every stream.
func lastRuns(ctx context.Context, path string) []byte {
	_, st, err := openStore(ctx, path)
	if err != nil {
		return []byte(fmt.Sprintf("opening the store: %v\n", err))
	}
	defer st.Close()
	runs, err := st.LastRuns(ctx, bundleRuns)
	if err != nil {
		return []byte(err.Error() + "\n")
	}
	type run struct {
		Stream string `json:"stream"`
		*runStatus
	}
	out := make([]run, 0, len(runs))
	for _, r := range runs {
		out = append(out, run{r.Stream, newRunStatus(r)})
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return []byte(err.Error() + "\n")
	}
	return append(data, '\n')
}

// logTail is the bundle's log.txt: the last n lines of log.file.
func logTail(cfg *config.Config, n int) []byte {
	if cfg.Log.File == "" {
		return []byte("log.file is not set: the log goes to the console (journalctl -u erpbridge, or the Windows event log)\n")
	}
	data, err := bundle.Tail(cfg.Log.File, n)
	if err != nil {
		return []byte(err.Error() + "\n")
	}
	return data
}
