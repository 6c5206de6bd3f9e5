package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/secrets"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/dictionary"
	"github.com/erpbridge/erpbridge/erp/protheus/setup"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// envRef is an ${ENV} reference in a connection string.
var envRef = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*\}`)

// tokenSecret is the secret init stores the CRM token as.
const tokenSecret = "RDSTATION_CRM_TOKEN"

type initOptions struct {
	driver, dsn, company, filial string
	crmURL, tokenRef, cnpjField  string
	out                          string
	fields                       []string
	yes, force, noCRM            bool
}

func newInitCmd() *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Read the Protheus data dictionary, propose a configuration and create the CRM's custom fields",
		Long: `init connects to the Protheus database (it only reads), reads the data
dictionary (SX2, SX3, SIX of the company) and the tables' columns, and
writes a configuration: the streams the tables allow, the branch each reads
(from the tables' sharing), and the customer's own fields (X3_PROPRI = U)
as CRM custom fields, labelled from X3_DESCRIC, combos as single-choice
fields mapped with cbox(). With the CRM token it matches those fields with
the CRM's custom fields by label, creates the missing ones after asking,
and reports combo options a CRM field would refuse. The token is stored as
the secret ` + tokenSecret + ` beside the file, never written in it.

On a terminal it asks for what the flags leave out; with --yes it asks
nothing: every user field is offered (or those of --fields) and the missing
CRM fields are created. The token is read from $` + tokenSecret + ` or
typed at a prompt. See docs/init.md.`,
		Example: `  erpbridge init
  RDSTATION_CRM_TOKEN=… erpbridge init --yes --driver sqlserver \
    --dsn 'sqlserver://erpbridge:${ERP_DB_PASSWORD}@dbhost:1433?database=PROTHEUS' --company 01 --filial 01`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runInit(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.driver, "driver", "", "database: sqlserver | oracle | postgres | sqlite")
	f.StringVar(&o.dsn, "dsn", "", "connection string (${ENV} references are kept in the file as written)")
	f.StringVar(&o.company, "company", "01", "Protheus company: tables are alias + company + 0 (SA1010)")
	f.StringVar(&o.filial, "filial", "", "branch read from tables the dictionary says are exclusive")
	f.StringVar(&o.crmURL, "crm-url", "https://crm.rdstation.com/api/v1", "RD Station CRM API root")
	f.StringVar(&o.tokenRef, "token-ref", "", "write crm.token as this reference (e.g. ${RD_TOKEN}) instead of storing the token as a secret")
	f.StringVar(&o.cnpjField, "cnpj-field", "CNPJ", "organization custom field for the CNPJ/CPF, used to adopt existing organizations (\"\" for none)")
	f.StringVarP(&o.out, "config", "c", "erpbridge.toml", "configuration file to write")
	f.StringSliceVar(&o.fields, "fields", nil, "user fields to offer as CRM custom fields (default: all)")
	f.BoolVar(&o.yes, "yes", false, "ask nothing: take the flags and the proposal as they are")
	f.BoolVar(&o.force, "force", false, "replace an existing configuration file")
	f.BoolVar(&o.noCRM, "no-crm", false, "do not connect to the CRM (no token, no custom fields created)")
	return cmd
}

// prompter asks questions on a terminal; with --yes or without a
// terminal it answers with the defaults.
type prompter struct {
	in          *bufio.Reader
	out         io.Writer
	interactive bool
}

func (p prompter) ask(question, def string) string {
	if !p.interactive {
		return def
	}
	if def != "" {
		fmt.Fprintf(p.out, "%s [%s]: ", question, def)
	} else {
		fmt.Fprintf(p.out, "%s: ", question)
	}
	line, _ := p.in.ReadString('\n')
	if line = strings.TrimSpace(line); line != "" {
		return line
	}
	return def
}

func (p prompter) confirm(question string, def bool) bool {
	d := "y/N"
	if def {
		d = "Y/n"
	}
	a := strings.ToLower(p.ask(question+" ("+d+")", ""))
	if a == "" {
		return def
	}
	return strings.HasPrefix(a, "y") || strings.HasPrefix(a, "s")
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func runInit(cmd *cobra.Command, o initOptions) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	out := cmd.OutOrStdout()
	p := prompter{in: bufio.NewReader(cmd.InOrStdin()), out: out, interactive: !o.yes && isTerminal(cmd.InOrStdin())}
	o.driver = p.ask("Database (sqlserver, oracle, postgres, sqlite)", o.driver)
	o.dsn = p.ask("Connection string", o.dsn)
	o.company = p.ask("Protheus company", o.company)
	if o.driver == "" || o.dsn == "" {
		return usageError(errors.New("give --driver and --dsn (or run init on a terminal to be asked)"))
	}
	if _, err := os.Stat(o.out); err == nil && !o.force && !p.confirm(o.out+" exists: replace it?", false) {
		return usageError(fmt.Errorf("%s exists: give --force to replace it, or -c another file", o.out))
	}

	// ${NAME} is expanded to connect and kept in the file as written.
	dsn := envRef.ReplaceAllStringFunc(o.dsn, func(ref string) string { return os.Getenv(ref[2 : len(ref)-1]) })
	db, d, err := sqlerp.Open(o.driver, dsn)
	if err != nil {
		return usageError(fmt.Errorf("opening the ERP database: %w", err))
	}
	defer db.Close()
	rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	in := setup.Input{Tables: map[string]setup.Table{}, CNPJLabel: o.cnpjField}
	for _, a := range setup.Aliases() {
		cols, err := sqlerp.ReadCatalog(rctx, db, d, protheus.TableName(a, o.company))
		if err != nil {
			return fmt.Errorf("reading the columns of %s: %w", protheus.TableName(a, o.company), err)
		}
		in.Tables[a] = setup.Table{Alias: a, Columns: cols}
	}
	in.Dict, in.DictErr = dictionary.Read(rctx, db, d, o.company, setup.Aliases()...)
	if in.DictErr != nil && !errors.Is(in.DictErr, dictionary.ErrNoDictionary) {
		return in.DictErr
	}
	if in.Dict != nil && o.filial == "" && exclusive(in.Dict) != "" {
		o.filial = p.ask(exclusive(in.Dict)+" exclusive to a branch: which branch (filial)", "")
		if o.filial == "" {
			return usageError(fmt.Errorf("%s exclusive to a branch (SX2 X2_MODO = E): give --filial", exclusive(in.Dict)))
		}
	}
	in.Filial = o.filial
	prop := setup.Propose(in, func(f setup.Field) (setup.Field, bool) {
		if len(o.fields) > 0 {
			return f, slices.Contains(o.fields, f.Column)
		}
		desc := f.Column + " (" + f.Label + ", " + f.Type
		if len(f.Options) > 0 {
			desc += ": " + strings.Join(f.Options, ", ")
		}
		if !p.confirm("Send "+desc+") to the CRM as a custom field?", true) {
			return f, false
		}
		f.Label = p.ask("  its CRM label", f.Label)
		return f, true
	})

	tokenRef := o.tokenRef
	if !o.noCRM {
		token := os.Getenv(tokenSecret)
		if token == "" && p.interactive {
			fmt.Fprint(out, "RD Station CRM token (not shown): ")
			f, _ := cmd.InOrStdin().(*os.File)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(out)
			if err != nil {
				return fmt.Errorf("reading the token: %w", err)
			}
			token = strings.TrimSpace(string(b))
		}
		if token == "" {
			return usageError(fmt.Errorf("set %s to the CRM token (or give --no-crm to skip the CRM)", tokenSecret))
		}
		if err := initCRM(ctx, out, p, o, token, &prop); err != nil {
			return err
		}
		if tokenRef == "" {
			file, err := secrets.Write(secretsDir(o.out), tokenSecret, []byte(token), secrets.Owner{UID: -1, GID: -1})
			if err != nil {
				return fmt.Errorf("storing the CRM token: %w", err)
			}
			fmt.Fprintf(out, "stored the CRM token as secret %s in %s\n", tokenSecret, file)
		}
	}
	if tokenRef == "" {
		tokenRef = "${secret:" + tokenSecret + "}"
	}
	text := prop.TOML(setup.Options{Driver: o.driver, DSN: o.dsn, Company: o.company, CRMBaseURL: o.crmURL,
		TokenRef: tokenRef, CNPJLabel: o.cnpjField})
	if dir := filepath.Dir(o.out); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	if err := os.WriteFile(o.out, []byte(text), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", o.out, err)
	}
	report(out, prop)
	if o.noCRM && o.tokenRef == "" {
		fmt.Fprintf(out, "wrote %s; store the CRM token with `erpbridge secret set %s -c %s`, then run `erpbridge check -c %s`\n", o.out, tokenSecret, o.out, o.out)
		return nil
	}
	if _, err := loadConfig(o.out); err != nil {
		return fmt.Errorf("the written %s does not validate (a bug: please report it): %w", o.out, err)
	}
	fmt.Fprintf(out, "wrote %s (it validates); next: erpbridge check -c %s, then erpbridge sync --once -c %s\n", o.out, o.out, o.out)
	return nil
}

// exclusive lists the proposal's tables the dictionary says are exclusive.
func exclusive(d *dictionary.Dictionary) string {
	var out []string
	for _, a := range setup.Aliases() {
		if t, ok := d.Tables[a]; ok && t.Branch == dictionary.Exclusive {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return strings.Join(out, ", ") + " are"
}

// initCRM matches the proposed custom fields (and the CNPJ field) with the
// CRM's and creates the missing ones once confirmed. The CRM is opened as
// the run opens it: the registered target system, from [crm] settings.
func initCRM(ctx context.Context, out io.Writer, p prompter, o initOptions, token string, prop *setup.Proposal) error {
	text := fmt.Sprintf("[crm]\nbase_url = %q\ntoken = \"${%s}\"\n", o.crmURL, tokenSecret)
	cfg, err := config.Parse([]byte(text), func(name string) (string, bool) { return token, name == tokenSecret })
	if err != nil {
		return usageError(fmt.Errorf("crm: %w", err))
	}
	target, _, err := wiring.OpenTargets(ctx, cfg, wiring.Options{}, nil)
	if err != nil {
		return usageError(fmt.Errorf("crm: %w", err))
	}
	fields := slices.Clone(prop.Fields)
	if o.cnpjField != "" && slices.ContainsFunc(prop.Streams, func(s setup.Stream) bool { return s.Name == "customers" && s.Enabled }) {
		fields = append([]setup.Field{{Stream: "customers", Entity: "organization", Column: "A1_CGC", Label: o.cnpjField, Type: "text"}}, fields...)
	}
	ms, err := setup.Match(ctx, target, fields)
	if err != nil {
		return err
	}
	var missing []string
	for _, m := range ms {
		switch {
		case !m.Exists:
			missing = append(missing, fmt.Sprintf("%s %q (%s)", m.Entity, m.Label, m.Type))
		case len(m.MissingOptions) > 0:
			fmt.Fprintf(out, "warning: the CRM's %s field %q lacks the options %s that %s holds: records with them will be sent without the field; add them in the CRM\n",
				m.Entity, m.CRMName, strings.Join(m.MissingOptions, ", "), m.Column)
		default:
			fmt.Fprintf(out, "the CRM has the %s field %q\n", m.Entity, m.CRMName)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	byHand := "create them in the CRM (Configurações → Campos personalizados) with these labels before the first sync: " + strings.Join(missing, ", ")
	if !p.confirm("Create in the CRM: "+strings.Join(missing, ", ")+"?", true) {
		fmt.Fprintln(out, "not created: "+byHand)
		return nil
	}
	if err := setup.CreateMissing(ctx, target, ms); errors.Is(err, setup.ErrCannotCreate) {
		fmt.Fprintln(out, "not created ("+err.Error()+"): "+byHand)
		return nil
	} else if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Created {
			fmt.Fprintf(out, "created the %s field %q\n", m.Entity, m.Label)
		}
	}
	return nil
}

// report prints what init chose and why.
func report(out io.Writer, p setup.Proposal) {
	for _, s := range p.Streams {
		state := "on"
		if !s.Enabled {
			state = "off"
		}
		fmt.Fprintf(out, "stream %-10s %-3s %s: %s\n", s.Name, state, s.Alias, s.Why)
	}
	for _, f := range p.Fields {
		fmt.Fprintf(out, "custom field %q ← %s (%s)\n", f.Label, f.Expr, f.Entity)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(out, "note: %s\n", n)
	}
}
