package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"runtime"
	"strconv"
	"strings"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/secrets"
	"github.com/erpbridge/erpbridge/installer"
	"github.com/erpbridge/erpbridge/installer/layout"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newSecretCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Store the secrets the configuration refers to as ${secret:NAME}",
		Long: `Store a password or a token outside the configuration file and outside every
process's environment; the configuration refers to it as ${secret:NAME}, e.g.
token = "${secret:RDSTATION_CRM_TOKEN}".

Secrets live in the "secrets" folder beside the configuration file. On Windows
each is encrypted with DPAPI (machine scope: only this machine can decrypt it)
and the folder is readable by SYSTEM, Administrators and the service only. On
Linux each is a file of mode 0600 owned by the service user, in a folder only
root and the service's group can enter. Under systemd, a credential of the
same name ($CREDENTIALS_DIRECTORY/NAME, LoadCredential=) is read first.
See docs/install.md, Secrets.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newSecretSetCmd(), newSecretListCmd(), newSecretDeleteCmd())
	return cmd
}

// secretsDir is the secrets folder of the config at path.
func secretsDir(path string) string {
	return layout.SecretsDir(runtime.GOOS, resolveServiceConfig(path))
}

// oneSecretName checks the NAME argument: a value given on the command
// line would show in the process list and the shell history.
func oneSecretName(_ *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return usageError(errors.New("give the secret's NAME (${secret:NAME} in the configuration)"))
	case len(args) > 1:
		return usageError(errors.New("give the NAME only: the value is read from standard input or a prompt, never from the command line (it would show in the process list and the shell history)"))
	}
	if err := secrets.CheckName(args[0]); err != nil {
		return usageError(err)
	}
	return nil
}

func newSecretSetCmd() *cobra.Command {
	var path, owner string
	cmd := &cobra.Command{
		Use:   "set NAME",
		Short: "Store a secret, read from standard input or typed at a prompt",
		Long: `Store the secret NAME for the configuration given with --config. The value is
typed at a prompt (not echoed, asked twice) or read from standard input when
that is not a terminal (one final line break is dropped). It is never taken
from the command line. An existing secret of that name is replaced; restart
the service to use the new value.

Run it as root / as Administrator. On Linux the file is given to --user (the
service user, default erpbridge).`,
		Example: `  erpbridge secret set RDSTATION_CRM_TOKEN -c /etc/erpbridge/erpbridge.toml
  printf '%s' "$TOKEN" | erpbridge secret set RDSTATION_CRM_TOKEN -c /etc/erpbridge/erpbridge.toml
  erpbridge.exe secret set ERP_DB_PASSWORD -c C:\ProgramData\erpbridge\erpbridge.toml`,
		Args: oneSecretName,
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			o, note, err := secretOwner(owner)
			if err != nil {
				return err
			}
			value, err := readSecretValue(cmd, name)
			if err != nil {
				return err
			}
			file, err := secrets.Write(secretsDir(path), name, value, o)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "stored secret %s in %s\n", name, file)
			if note != "" {
				fmt.Fprintf(out, "note: %s\n", note)
			}
			fmt.Fprintf(out, "refer to it as ${secret:%s} in the configuration; restart the service to use a new value\n", name)
			return nil
		},
	}
	serviceConfigFlag(cmd, &path)
	cmd.Flags().StringVar(&owner, "user", installer.LinuxServiceUser, "Linux: the service user the secret file belongs to")
	return cmd
}

// secretOwner is the Linux owner of the secret files: the service user when
// running as root, else the caller (with a note).
func secretOwner(name string) (secrets.Owner, string, error) {
	if runtime.GOOS == "windows" {
		return secrets.Owner{UID: -1, GID: -1}, "", nil
	}
	if os.Geteuid() != 0 {
		return secrets.Owner{UID: -1, GID: -1}, "not running as root: the file belongs to you, and the service (user " + name + ") cannot read it", nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return secrets.Owner{}, "", usageError(fmt.Errorf("looking up the service user %s (install the service first, or give --user): %w", name, err))
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return secrets.Owner{}, "", fmt.Errorf("reading the uid of %s: %w", name, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return secrets.Owner{}, "", fmt.Errorf("reading the gid of %s: %w", name, err)
	}
	return secrets.Owner{UID: uid, GID: gid}, "", nil
}

// readSecretValue reads the value from a prompt without echo (twice) when
// standard input is a terminal, else from standard input.
func readSecretValue(cmd *cobra.Command, name string) ([]byte, error) {
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		prompt := cmd.ErrOrStderr()
		fmt.Fprintf(prompt, "%s: ", name)
		v, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return nil, fmt.Errorf("reading the secret: %w", err)
		}
		fmt.Fprintf(prompt, "%s again: ", name)
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(prompt)
		if err != nil {
			return nil, fmt.Errorf("reading the secret: %w", err)
		}
		if string(v) != string(again) {
			return nil, usageError(errors.New("the two values differ: nothing stored"))
		}
		if len(v) == 0 {
			return nil, usageError(errors.New("the value is empty: nothing stored"))
		}
		return v, nil
	}
	v, err := io.ReadAll(io.LimitReader(bufio.NewReader(in), 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the secret from standard input: %w", err)
	}
	v = secrets.TrimLineBreak(v)
	if len(v) == 0 {
		return nil, usageError(errors.New("standard input is empty: nothing stored"))
	}
	return v, nil
}

func newSecretListCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the names of the stored secrets (never their values)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := secretsDir(path)
			names, err := secrets.List(dir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(names) == 0 {
				fmt.Fprintf(out, "no secrets in %s\n", dir)
				return nil
			}
			fmt.Fprintf(out, "secrets in %s:\n  %s\n", dir, strings.Join(names, "\n  "))
			return nil
		},
	}
	serviceConfigFlag(cmd, &path)
	return cmd
}

func newSecretDeleteCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a stored secret",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := secrets.Delete(secretsDir(path), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted secret %s\n", args[0])
			return nil
		},
	}
	serviceConfigFlag(cmd, &path)
	return cmd
}
