package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus/erpjob"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/crm/target"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
	"github.com/shopspring/decimal"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

const demoToken = "sim-token"

func newDemoCmd() *cobra.Command {
	var (
		dir     string
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Sync a Protheus-shaped SQLite ERP into the CRM simulator, no setup needed",
		Long: `Build a Protheus-shaped ERP in SQLite (customers with same-name lojas,
soft-deleted, blocked and NULL-stamp rows; SU5/AC8 contacts; products with a
price table; a few bad rows), start the RD Station CRM simulator in-process
and show the bridge at work: a first sync, a second one that writes nothing,
and a third after a few ERP changes that writes exactly those. Then both
directions of orders ⇄ deals: an ERP order is a deal that is won when the
order is invoiced, and a deal won in the CRM becomes an ERP order (staging
table + a stand-in for the ERP job) whose number shows on the deal.

The simulator enforces RD Station's 120 requests a minute on a simulated
clock, so the demo shows the rate budget at work without waiting for it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), dir, verbose)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "keep the ERP, config and checkpoint store in this folder (default: a temporary folder, removed)")
	cmd.Flags().BoolVar(&verbose, "verbose", false, "log every run and every failed record")
	return cmd
}

func runDemo(ctx context.Context, out io.Writer, dir string, verbose bool) error {
	started := time.Now()
	if dir == "" {
		tmp, err := os.MkdirTemp("", "erpbridge-demo-")
		if err != nil {
			return fmt.Errorf("creating demo folder: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("creating demo folder: %w", err)
	}
	erpPath := filepath.Join(dir, "erp.db")
	if err := os.Remove(erpPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the previous demo ERP: %w", err)
	}
	_ = os.RemoveAll(filepath.Join(dir, "erpbridge-data"))

	fmt.Fprintln(out, "erpbridge demo: a Protheus-shaped ERP (SQLite) kept in step with the RD Station CRM simulator")
	erpDB, exp, err := fixture.CreateSQLite(ctx, erpPath, fixture.Options{})
	if err != nil {
		return fmt.Errorf("building the demo ERP: %w", err)
	}
	defer erpDB.DB.Close()
	fmt.Fprintf(out, "\nERP  %s\n     SA1010 %d customers (%d deleted, %d blocked, %d without S_T_A_M_P_), SU5010 %d contacts, SB1010 %d products, price table %s\n",
		erpPath, exp.CustomerRows, exp.DeletedCustomers, exp.BlockedCustomers, exp.NullStampCustomers, exp.ContactRows, exp.ProductRows, fixture.PriceTable)

	clk := clock.NewFake(time.Now())
	sim := rdsim.New(rdsim.Options{Tokens: []string{demoToken}, Clock: clk})
	// The deal the fixture's one CRM-made order (C5_XCRMID) came from.
	won := true
	if err := sim.Seed(rdsim.SeedData{Deals: []rdsim.Deal{{ID: fixture.CRMDealID, Name: "Negócio ganho no CRM (já virou o pedido 000010)", Win: &won}}}); err != nil {
		return fmt.Errorf("seeding the simulator: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting the simulator: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	baseURL := "http://" + ln.Addr().String() + "/api/v1"
	fmt.Fprintf(out, "CRM  simulator at %s (120 requests a minute per account, on a simulated clock)\n", baseURL)

	cfgText := fmt.Sprintf(`# written by erpbridge demo
data_dir = "erpbridge-data"
[crm]
base_url = %q
token = %q
[erp]
driver = "sqlite"
dsn = "erp.db"
[streams.customers]
cnpj_field = "CNPJ"
[streams.contacts]
filial = %q
[streams.products]
price_table = %q
[streams.orders]
enabled = true
filial = %q
since = "20240101"   # the demo ERP's orders are from January 2024
order_number_field = "Pedido ERP"
lost_reason = "Sem interesse"
default_owner = %q
[streams.orders.stages]
open = "Sem contato"
released = "Contato feito"
blocked = "Identificação do interesse"
partially_invoiced = "Apresentação"
invoiced = "Proposta enviada"
residue_eliminated = "Proposta enviada"
[won_deals]
enabled = true
sink = "staging"
filial = %q
payment_terms = "001"
`, baseURL, demoToken, fixture.ContactFilial, fixture.PriceTable, fixture.OrderFilial, rdsim.DefaultAdminEmail, fixture.OrderFilial)
	cfgPath := filepath.Join(dir, "erpbridge.toml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		return fmt.Errorf("writing demo config: %w", err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}

	// The CNPJ custom field an admin would create once in the CRM.
	tc, _ := cfg.Component(target.Name)
	c, err := tc.(*target.Config).NewClient(target.Options{Clock: clk})
	if err != nil {
		return err
	}
	if _, err := c.CreateCustomField(ctx, crm.CustomFieldInput{Label: "CNPJ", Type: "text", For: "organization"}); err != nil {
		return fmt.Errorf("creating the CNPJ custom field: %w", err)
	}
	// … and the deal field that shows the ERP order number.
	numberField, err := c.CreateCustomField(ctx, crm.CustomFieldInput{Label: "Pedido ERP", Type: "text", For: "deal"})
	if err != nil {
		return fmt.Errorf("creating the order number custom field: %w", err)
	}

	log := zap.NewNop()
	if verbose {
		var closeLog func()
		if log, closeLog, err = newLogger(cfg, os.Stderr); err != nil {
			return err
		}
		defer closeLog()
	}
	b, err := wiring.Open(ctx, cfg, wiring.Options{Logger: log, Clock: clk})
	if err != nil {
		return err
	}
	defer b.Close()

	fmt.Fprintln(out, "\nColumns: read = ERP rows read (changes since the last sync, plus a short overlap); unchanged = same")
	fmt.Fprintln(out, "data as the CRM already has, no API call; skipped = left out on purpose (blocked or deleted rows);")
	fmt.Fprintln(out, "failed = bad ERP data, reported per record at the end (and retried once the ERP row is fixed).")
	simStart := clk.Now()
	step := func(title string) error {
		fmt.Fprintf(out, "\n%s\n", title)
		reps, err := b.Engine.SyncAll(ctx, bridge.SyncOptions{})
		printDemoTable(out, reps)
		return err
	}
	if err := step("1. First sync: every record is new"); err != nil {
		return err
	}
	if err := step("2. Second sync: nothing changed in the ERP, so nothing is written"); err != nil {
		return err
	}

	fmt.Fprintf(out, "\n   In the ERP, between syncs 2 and 3:\n")
	for _, m := range []struct {
		what string
		do   func() error
	}{
		{"customer 000010/01 renamed", func() error { return erpDB.RenameCustomer(ctx, "000010", "01", "COMERCIAL RENOMEADA LTDA") }},
		{"customer 000011/01 renamed", func() error { return erpDB.RenameCustomer(ctx, "000011", "01", "INDUSTRIA NOVO NOME S/A") }},
		{"customer 000012/01 touched by invoicing (stamp moves, data does not)", func() error { return erpDB.TouchCustomer(ctx, "000012", "01") }},
		{"customer 000017/01 soft-deleted (deletes = \"ignore\": the CRM keeps it)", func() error { return erpDB.DeleteCustomer(ctx, "000017", "01") }},
		{"customer 000999/01 added", func() error {
			_, err := erpDB.AddCustomer(ctx, fixture.NewCustomer{Cod: "000999", Loja: "01", Name: "CLIENTE NOVO DA DEMO LTDA", CGC: "11444777000161"})
			return err
		}},
	} {
		if err := m.do(); err != nil {
			return fmt.Errorf("changing the demo ERP: %w", err)
		}
		fmt.Fprintf(out, "   ERP: %s\n", m.what)
	}
	if err := step("3. Third sync: exactly those changes"); err != nil {
		return err
	}

	if err := demoOrders(ctx, out, b, c, erpDB, numberField.ID, step); err != nil {
		return err
	}

	items, err := b.Store.Errors(ctx, store.OutboxFilter{Limit: 20})
	if err != nil {
		return fmt.Errorf("reading errors: %w", err)
	}
	if len(items) > 0 {
		fmt.Fprintf(out, "\nRecords the CRM did not get: bad ERP data, reported per record (erpbridge errors list):\n")
		for _, it := range items {
			fmt.Fprintf(out, "   %-9s %-12s %s\n", it.Stream, it.ERPKey, firstLine(it.LastError))
		}
	}
	counts := sim.Counts()
	fmt.Fprintf(out, "\nThe simulator answered %d requests (%d writes), none over the account's limit: %d answered 429.\n",
		counts.Total, counts.Writes, counts.ByStatus[http.StatusTooManyRequests])
	fmt.Fprintf(out, "Done in %s; the CRM's clock advanced %s, as the 120/min budget would take in real time.\n",
		time.Since(started).Round(time.Millisecond), clk.Now().Sub(simStart).Round(time.Second))
	fmt.Fprintf(out, "Next: erpbridge sim (a standalone simulator), config.example.toml, README.md.\n")
	return nil
}

// demoOrders shows both directions of orders ⇄ deals: an ERP order as a
// deal that is won when invoiced, and a deal won in the CRM as an ERP order
// (through the staging table and the stand-in ERP job) whose number shows on
// the deal.
func demoOrders(ctx context.Context, out io.Writer, b *wiring.Bridge, c *crm.Client, erpDB fixture.ERP, numberField string, step func(string) error) error {
	const num = "000001"
	dealOf := func(prefix string) (crm.Deal, error) {
		page, err := c.ListDeals(ctx, crm.DealQuery{Name: prefix})
		if err != nil {
			return crm.Deal{}, err
		}
		for _, d := range page.Items {
			if strings.HasPrefix(d.Name, prefix) {
				return c.GetDeal(ctx, d.ID)
			}
		}
		return crm.Deal{}, fmt.Errorf("no deal named %q…", prefix)
	}
	stageName := func(d crm.Deal) string {
		if d.Stage != nil {
			return d.Stage.Name
		}
		return "?"
	}
	outcome := func(d crm.Deal) string {
		switch {
		case d.Win == nil:
			return "open"
		case *d.Win:
			return "won"
		}
		return "lost"
	}

	fmt.Fprintf(out, "\n4. Orders → deals: ERP sales orders (SC5 + SC6) became deals in the first sync\n")
	d, err := dealOf("Pedido " + num)
	if err != nil {
		return err
	}
	lines, err := c.ListDealProducts(ctx, d.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   %q: stage %q, %s, %d products, order number field %q\n", d.Name, stageName(d), outcome(d), len(lines), fieldText(d, numberField))
	fmt.Fprintf(out, "   (order 000010 was made from a CRM deal, C5_XCRMID: it only writes its number onto that deal, the \"updated 1\" of sync 1)\n")
	if _, err := erpDB.InvoiceOrder(ctx, num); err != nil {
		return fmt.Errorf("invoicing the demo order: %w", err)
	}
	fmt.Fprintf(out, "   ERP: order %s invoiced (C5_NOTA set, every item delivered)\n", num)
	if err := step("   Sync: the invoiced order moves its deal"); err != nil {
		return err
	}
	if d, err = c.GetDeal(ctx, d.ID); err != nil {
		return err
	}
	fmt.Fprintf(out, "   %q: stage %q, %s\n", d.Name, stageName(d), outcome(d))

	fmt.Fprintf(out, "\n5. Won deals → ERP orders: a salesperson wins a deal in the CRM\n")
	org, ok, err := b.Store.Identity(ctx, "organization", erp.JoinKey(fixture.SharedFilial, "000001", "01"))
	if err != nil || !ok {
		return fmt.Errorf("finding the demo customer's organization: %v", err)
	}
	var products []crm.DealProductInput
	for _, cod := range []string{"PA0001", "PA0002"} {
		id, ok, err := b.Store.Identity(ctx, "product", erp.JoinKey(fixture.SharedFilial, cod))
		if err != nil || !ok {
			return fmt.Errorf("finding demo product %s: %v", cod, err)
		}
		products = append(products, crm.DealProductInput{ProductID: id.CRMID,
			Amount: crm.DecimalPtr(decimal.RequireFromString("2.5")), Price: crm.DecimalPtr(decimal.RequireFromString("19.90"))})
	}
	won, err := c.CreateDeal(ctx, crm.DealCreate{Deal: crm.DealInput{Name: "Venda fechada no CRM"}, OrganizationID: org.CRMID, Products: products})
	if err != nil {
		return err
	}
	if _, err := c.WinDeal(ctx, won.ID); err != nil {
		return err
	}
	fmt.Fprintf(out, "   CRM: deal %q won (2.5 × PA0001 and 2.5 × PA0002 at 19.90)\n", won.Name)
	rep, err := b.WonDeals.Run(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   Poll: %d won deals listed; %d skipped (won from invoiced ERP orders, or already an ERP order); %d staged in ZB1010/ZB2010 for the ERP job\n", rep.Listed, rep.Skipped, rep.Waiting)
	outcomes, err := erpjob.Run(ctx, erpDB, erpjob.Options{})
	if err != nil {
		return fmt.Errorf("running the stand-in ERP job: %w", err)
	}
	for _, o := range outcomes {
		fmt.Fprintf(out, "   ERP job (MATA410 stand-in): deal %s → order %s%s\n", o.DealID, o.Num, o.Error)
	}
	if rep, err = b.WonDeals.Run(ctx); err != nil {
		return err
	}
	if won, err = c.GetDeal(ctx, won.ID); err != nil {
		return err
	}
	fmt.Fprintf(out, "   Poll: %d order number written back; the deal's \"Pedido ERP\" field now reads %q\n", rep.Ordered, fieldText(won, numberField))
	if err := step("   Sync: the new ERP order is linked to the deal it came from, not made a second deal"); err != nil {
		return err
	}
	return nil
}

func fieldText(d crm.Deal, id string) string {
	v, _ := crm.FieldValue(d.CustomFields, id)
	return v.Text()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func printDemoTable(out io.Writer, reps []bridge.Report) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "   stream\tread\tcreated\tupdated\tunchanged\tskipped\tfailed\tAPI calls\t")
	for _, r := range reps {
		fmt.Fprintf(tw, "   %s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", r.Stream, r.Stats.Read, r.Stats.Created, r.Stats.Updated,
			r.Stats.Unchanged, r.Stats.Skipped, r.Stats.Failed, r.Stats.APICalls)
	}
	_ = tw.Flush()
	for _, r := range reps {
		if r.Err != nil {
			fmt.Fprintf(out, "   %s: %v\n", r.Stream, r.Err)
		}
	}
}
