package main

import (
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// The CRM the ERP calls for, derived by the test from the ERP tables alone
// (SQL and decimal arithmetic, never the bridge's mapping code), under the
// default mappings and the documented rules of README "What happens to a
// record" and docs/mapping.md.

// wantOptions is the configuration expectedCRM derives the CRM for.
type wantOptions struct {
	// deletePrefix is the customers' delete mark (deletes = "mark" with
	// delete_mark.name_prefix); "" when deletes are ignored.
	deletePrefix string
	// cnpj: streams.customers.cnpj_field is set, so organizations carry
	// the CNPJ/CPF (digits compared), or none when it is invalid.
	cnpj bool
	// orders: streams.orders is on as e2eOrdersConfig sets it.
	orders bool
	// windowStart: orders issued before it make no deal (the history
	// window); zero takes every order.
	windowStart time.Time
	// customerEmail: streams.contacts.customer_email = true, so each
	// customer's own A1_EMAIL and phone is a contact of its organization.
	customerEmail bool
	// kept are customers blocked after they were synced, with the
	// organization name they had: blocked = "skip" leaves it in the CRM as
	// it was, so it may be there once.
	kept map[string]string
}

// crmWant is the CRM the ERP calls for.
type crmWant struct {
	orgs map[string]wantOrg // customer key → its organization
	// optionalOrgs are names allowed at most once: a deleted customer's
	// marked organization, a blocked customer's kept one.
	optionalOrgs map[string]string
	contacts     []wantContact
	// optionalContacts ("name|e-mail", lower case) may be in the CRM
	// once: a blocked customer's own contact, kept as it was.
	optionalContacts map[string]bool
	products         map[string]wantProduct // CRM name → product
	deals            map[string]wantDeal    // order number → its deal
	linked           map[string]string      // CRM deal id (C5_XCRMID) → the order number written onto it
	// warned are records synced without a field, or left out on purpose,
	// listed as warnings (level skip); failed are records refused, listed
	// as errors. Each maps listed(stream, ERP key) to a text the entry must
	// name (the column, or the customer).
	warned, failed map[string]string
}

type wantOrg struct {
	name string
	cnpj string // digits; "" none (invalid or blank)
}

type wantContact struct {
	key, name, email string
	org              string // organization name; "" none
}

type wantProduct struct {
	key     string
	price   decimal.Decimal
	visible bool
}

// wantDeal is an order's deal.
type wantDeal struct {
	num, name, org string
	stage          string // stage name
	win            *bool  // nil open
	lines          []wantLine
	total          decimal.Decimal // Σ C6_VALOR of the lines on the deal
	// noteItems are the items ("item 02, MSYDEL") the deal's note must
	// name: those left out and those shown as 1 × C6_VALOR.
	noteItems []string
}

// wantLine is one deal product: amount × price is the ERP's C6_VALOR.
type wantLine struct {
	product       string // CRM product name
	amount, price decimal.Decimal
}

func (l wantLine) String() string {
	return l.product + "|" + l.amount.String() + "|" + l.price.String()
}

// e2eStages are the stages e2eOrdersConfig gives each order status.
var e2eStages = map[string]string{
	"open": "Sem contato", "released": "Contato feito", "blocked": "Identificação do interesse",
	"partially_invoiced": "Apresentação", "invoiced": "Proposta enviada", "residue_eliminated": "Proposta enviada",
}

// e2eOrdersConfig turns on orders → deals with the default window, types
// and totals and a stage per status of the simulator's first pipeline;
// e2eWonDealsConfig won deals → the staging tables.
const e2eOrdersConfig = `[streams.orders]
enabled = true
filial = "01"
order_number_field = "Pedido ERP"
lost_reason = "Sem interesse"
cancelled_reason = "Preço"
default_owner = "` + rdsim.DefaultAdminEmail + `"
[streams.orders.stages]
open = "Sem contato"
released = "Contato feito"
blocked = "Identificação do interesse"
partially_invoiced = "Apresentação"
invoiced = "Proposta enviada"
residue_eliminated = "Proposta enviada"
`

const e2eWonDealsConfig = `[won_deals]
enabled = true
sink = "staging"
filial = "01"
`

// crmText is a text as the CRM must show it: Windows-1252 bytes decoded,
// control and bidi characters removed, tabs and line breaks a blank,
// trimmed (docs/mapping.md "Expressions").
func crmText(s string) string {
	var b strings.Builder
	for _, r := range latin1(s) {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// validDoc returns the digits of a CNPJ (14) or CPF (11) whose check
// digits are right, else "".
func validDoc(s string) string {
	d := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	check := func(body string, weights ...int) byte { // mod 11
		sum := 0
		for i := range body {
			sum += int(body[i]-'0') * weights[i]
		}
		if r := sum % 11; r >= 2 {
			return byte('0' + 11 - r)
		}
		return '0'
	}
	switch len(d) {
	case 14:
		if check(d[:12], 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2) == d[12] && check(d[:13], 6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2) == d[13] {
			return d
		}
	case 11:
		if check(d[:9], 10, 9, 8, 7, 6, 5, 4, 3, 2) == d[9] && check(d[:10], 11, 10, 9, 8, 7, 6, 5, 4, 3, 2) == d[10] {
			return d
		}
	}
	return ""
}

// dec reads a number the way the ERP meant it: the shortest decimal of the
// stored FLOAT, rounded to places; ok is false for what is no number (NaN,
// ±Inf, text).
func dec(s string, places int32) (decimal.Decimal, bool) {
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return decimal.Decimal{}, false
	}
	return d.Round(places), true
}

// issued reads a YYYYMMDD date (zero when it is none).
func issued(s string) time.Time {
	t, _ := time.Parse("20060102", strings.TrimSpace(s))
	return t
}

// expectedCRM derives the CRM from the ERP tables: every live unblocked
// customer with a key (the 1-character name goes with its unique suffix,
// an invalid CNPJ is left out and warned), the contacts linked through AC8
// to one of them (to the first by AC8 record number; without an e-mail that
// is invalid or that an earlier contact has, warned), the live products
// (price from DA1 of the price table, else B1_PRV1, to the cent; an
// unreadable one left out and warned) and, with orders, one deal per
// eligible order.
func expectedCRM(t *testing.T, db *sql.DB, opts wantOptions) crmWant {
	t.Helper()
	w := crmWant{orgs: map[string]wantOrg{}, optionalOrgs: map[string]string{}, products: map[string]wantProduct{},
		deals: map[string]wantDeal{}, linked: map[string]string{},
		warned: map[string]string{}, failed: map[string]string{}, optionalContacts: map[string]bool{}}
	live := map[string]bool{}
	names := map[string]string{} // live customer key → A1_NOME as the CRM shows it
	var own [][]string           // live unblocked customers: key, A1_CONTATO, A1_NOME, A1_EMAIL, A1_TEL
	for _, r := range rows(t, db, "SELECT A1_COD, A1_LOJA, A1_NOME, A1_MSBLQL, D_E_L_E_T_, A1_CGC, R_E_C_N_O_, A1_CONTATO, A1_EMAIL, A1_TEL FROM SA1010 WHERE A1_FILIAL = '"+fixture.SharedFilial+"' ORDER BY R_E_C_N_O_") {
		if strings.TrimSpace(r[0]) == "" || strings.TrimSpace(r[1]) == "" { // NULL or blank key: an error of its row
			if r[4] != "*" {
				w.failed[listed("customers", "#"+r[6])] = "A1_COD" // listed under …|#R_E_C_N_O_
				if opts.customerEmail {
					w.failed[listed("customer_contacts", "#"+r[6])] = "A1_COD"
				}
			}
			continue
		}
		key := customerKey(r[0], r[1])
		name := crmText(r[2]) + " (" + r[0] + "/" + r[1] + ")"
		switch {
		case r[4] == "*":
			if opts.deletePrefix != "" && !live[key] {
				w.optionalOrgs[key] = opts.deletePrefix + name
			}
		case strings.TrimSpace(r[3]) == "1":
			live[key] = true
			names[key] = crmText(r[2])
			delete(w.optionalOrgs, key)
			if kept, ok := opts.kept[key]; ok {
				w.optionalOrgs[key] = kept
				if opts.customerEmail {
					w.optionalContacts[strings.ToLower(crmText(ifEmpty(r[7], r[2])))+"|"+strings.ToLower(strings.TrimSpace(r[8]))] = true
				}
			}
		default:
			live[key] = true
			names[key] = crmText(r[2])
			delete(w.optionalOrgs, key)
			o := wantOrg{name: name}
			if opts.cnpj {
				o.cnpj = validDoc(r[5])
				if o.cnpj == "" && strings.TrimSpace(r[5]) != "" {
					w.warned[listed("customers", key)] = "A1_CGC"
				}
			}
			w.orgs[key] = o
			own = append(own, []string{key, r[7], r[2], r[8], r[9]})
		}
	}

	// Contacts: the first AC8 link (by record number) to a customer the
	// CRM has gives the organization.
	links := map[string][]string{} // U5_CODCONT → customer keys
	for _, r := range rows(t, db, "SELECT AC8_CODCON, AC8_FILENT, AC8_CODENT FROM AC8010 WHERE AC8_FILIAL = '"+fixture.ContactFilial+
		"' AND AC8_ENTIDA = 'SA1' AND D_E_L_E_T_ = ' ' ORDER BY R_E_C_N_O_") {
		ent := r[2] + strings.Repeat(" ", 8)
		links[r[0]] = append(links[r[0]], customerKey(strings.TrimSpace(ent[:6]), strings.TrimSpace(ent[6:8])))
	}
	taken := map[string]string{} // e-mail → the contact that has it
	// named: "name|organization" of the contacts placed, the natural key of
	// a contact without e-mail: one whose name its organization has already
	// is refused (its natural key belongs to another ERP record).
	named := map[string]bool{}
	place := func(stream string, c wantContact, invalidField string) {
		k := strings.ToLower(c.name) + "|" + c.org
		if c.email == "" && named[k] {
			w.failed[listed(stream, c.key)] = "belongs to another ERP record"
			return
		}
		if invalidField != "" {
			w.warned[listed(stream, c.key)] = invalidField
		}
		named[k] = true
		w.contacts = append(w.contacts, c)
	}
	for _, r := range rows(t, db, "SELECT U5_CODCONT, U5_CONTAT, U5_EMAIL FROM SU5010 WHERE U5_FILIAL = '"+fixture.ContactFilial+
		"' AND D_E_L_E_T_ = ' ' ORDER BY R_E_C_N_O_") {
		key := contactKey(r[0])
		org := ""
		for _, c := range links[r[0]] {
			if o, ok := w.orgs[c]; ok {
				org = o.name
				break
			}
		}
		if org == "" { // linked to no customer the CRM has: left out, listed (streams.contacts.unlinked)
			w.warned[listed("contacts", key)] = "AC8"
			continue
		}
		c := wantContact{key: key, name: crmText(r[1]), org: org}
		invalid := ""
		switch email := strings.ToLower(strings.TrimSpace(r[2])); {
		case !validEmail(email):
			invalid = "U5_EMAIL" // sent without it
		case taken[email] != "": // a shared mailbox: sent without it (shared_email = "omit_email")
			invalid = email
		default:
			c.email, taken[email] = email, key
		}
		place("contacts", c, invalid)
	}
	// The customers' own e-mail and phone (customer_email), after the SU5
	// contacts: a contact named A1_CONTATO (else A1_NOME) of the
	// customer's organization; none without e-mail and phone.
	for _, r := range own {
		if !opts.customerEmail {
			break
		}
		key, raw := r[0], strings.ToLower(strings.TrimSpace(r[3]))
		c := wantContact{key: key, name: crmText(ifEmpty(r[1], r[2])), org: w.orgs[key].name}
		first, valid := "", raw != ""
		for _, e := range strings.FieldsFunc(raw, func(r rune) bool { return r == ';' || r == ',' || r == ' ' }) {
			valid = valid && validEmail(e)
			if first == "" {
				first = e
			}
		}
		if raw == "" && strings.TrimSpace(r[4]) == "" {
			continue // neither e-mail nor phone
		}
		invalid := ""
		switch {
		case raw == "":
		case !valid:
			invalid = "A1_EMAIL" // sent without it
		case taken[first] != "":
			invalid = first
		default:
			c.email, taken[first] = first, key
		}
		place("customer_contacts", c, invalid)
	}

	// Products: the price table's price (DA1, table fixture.PriceTable), else
	// B1_PRV1, to the cent; a price that cannot be read is left out.
	da1 := map[string]string{}
	for _, r := range rows(t, db, "SELECT DA1_CODPRO, DA1_PRCVEN FROM DA1010 WHERE DA1_CODTAB = '"+fixture.PriceTable+"' AND D_E_L_E_T_ = ' '") {
		da1[r[0]] = r[1]
	}
	productNames := map[string]string{} // live B1_COD → CRM name
	for _, r := range rows(t, db, "SELECT B1_COD, B1_DESC, B1_PRV1, B1_MSBLQL FROM SB1010 WHERE D_E_L_E_T_ = ' '") {
		key := erp.JoinKey(fixture.SharedFilial, r[0])
		p := wantProduct{key: key, visible: strings.TrimSpace(r[3]) != "1"}
		raw, column := r[2], "B1_PRV1"
		if s, ok := da1[r[0]]; ok {
			raw, column = s, "DA1_PRCVEN"
		}
		if price, ok := dec(raw, 2); ok {
			p.price = price
		} else {
			w.warned[listed("products", key)] = column
		}
		name := crmText(r[1]) + " (" + r[0] + ")"
		productNames[r[0]] = name
		w.products[name] = p
	}
	if opts.orders {
		expectDeals(t, db, opts, &w, live, names, productNames)
	}
	return w
}

// expectDeals adds the deals: one per live normal order (C5_TIPO N) of
// OrderFilial issued in the window whose customer is live, named
// "Pedido NUM · A1_NOME", with the customer's organization (none when it
// is blocked), the stage and outcome of its status, and a line per live
// item whose product is in the CRM: its quantity and price when their
// product is its C6_VALOR, else 1 × C6_VALOR (named in the note), so the
// deal totals Σ C6_VALOR. An order made from a CRM deal (C5_XCRMID) only
// writes its number onto that deal; a deleted customer's order is an error.
func expectDeals(t *testing.T, db *sql.DB, opts wantOptions, w *crmWant, live map[string]bool, names, productNames map[string]string) {
	t.Helper()
	type item struct{ code, product, um, qty, price, value, delivered string }
	items := map[string][]item{}
	for _, r := range rows(t, db, "SELECT C6_NUM, C6_ITEM, C6_PRODUTO, C6_UM, C6_QTDVEN, C6_PRCVEN, C6_VALOR, C6_QTDENT FROM SC6010 WHERE C6_FILIAL = '"+
		fixture.OrderFilial+"' AND D_E_L_E_T_ = ' ' ORDER BY C6_NUM, C6_ITEM") {
		items[r[0]] = append(items[r[0]], item{r[1], r[2], r[3], r[4], r[5], r[6], r[7]})
	}
	for _, r := range rows(t, db, "SELECT C5_NUM, C5_TIPO, C5_CLIENTE, C5_LOJACLI, C5_EMISSAO, C5_NOTA, C5_LIBEROK, C5_BLQ, C5_XCRMID FROM SC5010 WHERE C5_FILIAL = '"+
		fixture.OrderFilial+"' AND D_E_L_E_T_ = ' '") {
		num, custKey := r[0], customerKey(r[2], r[3])
		switch {
		case strings.TrimSpace(r[8]) != "":
			w.linked[strings.TrimSpace(r[8])] = num
			continue
		case r[1] != "N", !opts.windowStart.IsZero() && issued(r[4]).Before(opts.windowStart):
			continue
		case !live[custKey]:
			w.failed[listed("orders", fixture.OrderKey(num))] = "C5_CLIENTE"
			continue
		}
		d := wantDeal{num: num, name: "Pedido " + num + " · " + names[custKey], org: w.orgs[custKey].name}
		var sold, delivered decimal.Decimal
		for _, it := range items[num] {
			qty, okQ := dec(it.qty, 8)
			price, okP := dec(it.price, 8)
			value, _ := dec(it.value, 2)
			done, _ := dec(it.delivered, 8)
			sold, delivered = sold.Add(qty), delivered.Add(done)
			label := "item " + it.code + ", " + it.product
			product, inCRM := productNames[it.product]
			switch {
			case !inCRM, !okQ || !qty.IsPositive(), !okP || price.IsNegative():
				d.noteItems = append(d.noteItems, label)
				continue
			case qty.Mul(price).Equal(value):
				d.lines = append(d.lines, wantLine{product: product, amount: qty, price: price})
			default:
				d.lines = append(d.lines, wantLine{product: product, amount: decimal.NewFromInt(1), price: value})
				d.noteItems = append(d.noteItems, label)
			}
			d.total = d.total.Add(value)
		}
		status := orderStatus(r[5], r[6], r[7], sold, delivered)
		d.stage = e2eStages[status]
		switch status {
		case "invoiced":
			d.win = ptr(true)
		case "residue_eliminated":
			d.win = ptr(false)
		}
		w.deals[num] = d
	}
}

// orderStatus is the status docs/mapping.md derives from SC5 and the live
// SC6 items, first rule that matches.
func orderStatus(nota, liberok, blq string, sold, delivered decimal.Decimal) string {
	nota, liberok = strings.TrimSpace(nota), strings.TrimSpace(liberok)
	partial := delivered.IsPositive() && delivered.LessThan(sold)
	switch {
	case nota != "" && strings.Trim(nota, "X") == "":
		return "residue_eliminated"
	case sold.IsPositive() && delivered.GreaterThanOrEqual(sold):
		return "invoiced"
	case nota != "" && partial:
		return "partially_invoiced"
	case nota != "" || liberok == "E":
		return "invoiced"
	case strings.TrimSpace(blq) != "":
		return "blocked"
	case partial:
		return "partially_invoiced"
	case liberok != "":
		return "released"
	}
	return "open"
}

func ptr[T any](v T) *T { return &v }

// listed is how warned and failed name a record: its stream and ERP key.
func listed(stream, key string) string { return stream + " " + key }

// ifEmpty is a, or b when a is blank.
func ifEmpty(a, b string) string {
	if strings.TrimSpace(a) == "" {
		return b
	}
	return a
}

// validEmail: one '@' with something before it and a dotted domain after.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && !strings.Contains(domain, "@") && strings.Contains(strings.Trim(domain, "."), ".")
}

// crmChecker reports at most 30 problems, then counts the rest.
type crmChecker struct {
	t        *testing.T
	problems int
}

func (c *crmChecker) fail(format string, args ...any) {
	c.t.Helper()
	if c.problems++; c.problems <= 30 {
		c.t.Errorf(format, args...)
	}
}

func (c *crmChecker) done() {
	if c.problems > 30 {
		c.t.Errorf("… and %d more problems", c.problems-30)
	}
}

// assertCRMMatches asserts the CRM record by record: exactly one
// organization per expected customer with its name (and CNPJ), at most
// one per optional name; one contact per expected contact with its
// e-mail and organization; one product per expected name with its price
// and visibility; one deal per expected order with its name,
// organization, stage, outcome, lines, total and note; the order number on
// the deals orders were made from; and nothing else (deals in skipDeals
// are the test's own).
func assertCRMMatches(t *testing.T, st rdsim.State, w crmWant, skipDeals ...string) {
	t.Helper()
	c := &crmChecker{t: t}
	defer c.done()
	fieldID := map[string]string{}
	for _, f := range st.CustomFields {
		fieldID[f.For+"/"+f.Label] = f.ID
	}
	value := func(vs []rdsim.CustomFieldValue, label string) string {
		for _, v := range vs {
			if v.CustomFieldID == fieldID[label] && v.Value != nil {
				return fmt.Sprint(v.Value)
			}
		}
		return ""
	}

	orgs := map[string][]rdsim.Organization{}
	orgName := map[string]string{}
	for _, o := range st.Organizations {
		orgs[o.Name] = append(orgs[o.Name], o)
		orgName[o.ID] = o.Name
	}
	known := map[string]bool{}
	for key, want := range w.orgs {
		known[want.name] = true
		have := orgs[want.name]
		if len(have) != 1 {
			c.fail("customer %s: %d organizations named %q, want exactly 1", key, len(have), want.name)
			continue
		}
		if fieldID["organization/CNPJ"] == "" {
			continue
		}
		if got := validDoc(value(have[0].CustomFields, "organization/CNPJ")); got != want.cnpj || (want.cnpj == "" && value(have[0].CustomFields, "organization/CNPJ") != "") {
			c.fail("customer %s: CNPJ %q in the CRM, want %q", key, value(have[0].CustomFields, "organization/CNPJ"), want.cnpj)
		}
	}
	for key, name := range w.optionalOrgs {
		known[name] = true
		if n := len(orgs[name]); n > 1 {
			c.fail("customer %s: %d organizations named %q, want at most 1", key, n, name)
		}
	}
	for name, have := range orgs {
		if !known[name] {
			c.fail("%d unexpected organization(s) named %q (a duplicate, a stale name or an unmarked delete)", len(have), name)
		}
	}

	contacts := map[string][]rdsim.Contact{}
	for _, ct := range st.Contacts {
		e := ""
		if len(ct.Emails) > 0 {
			e = strings.ToLower(ct.Emails[0].Email)
		}
		k := strings.ToLower(ct.Name) + "|" + e
		contacts[k] = append(contacts[k], ct)
	}
	seen := map[string]bool{}
	for _, want := range w.contacts {
		k := strings.ToLower(want.name) + "|" + want.email
		seen[k] = true
		have := contacts[k]
		if len(have) != 1 {
			c.fail("contact %s: %d contacts named %q with e-mail %q, want exactly 1", want.key, len(have), want.name, want.email)
			continue
		}
		if got := orgName[have[0].OrganizationID]; got != want.org {
			c.fail("contact %s (%s): organization %q, want %q", want.key, want.name, got, want.org)
		}
	}
	for k, have := range contacts {
		if w.optionalContacts[k] && len(have) == 1 {
			continue
		}
		if !seen[k] {
			c.fail("%d unexpected contact(s) %q (name|e-mail)", len(have), k)
		}
	}

	products := map[string][]rdsim.Product{}
	productName := map[string]string{}
	for _, p := range st.Products {
		products[p.Name] = append(products[p.Name], p)
		productName[p.ID] = p.Name
	}
	for name, want := range w.products {
		have := products[name]
		if len(have) != 1 {
			c.fail("product %s: %d in the CRM named %q, want exactly 1", want.key, len(have), name)
			continue
		}
		if !have[0].BasePrice.Equal(want.price) || have[0].Visible != want.visible {
			c.fail("product %s (%s): price %s visible %v, want %s %v", want.key, name, have[0].BasePrice, have[0].Visible, want.price, want.visible)
		}
	}
	for name, have := range products {
		if _, ok := w.products[name]; !ok {
			c.fail("%d unexpected product(s) named %q", len(have), name)
		}
	}

	if len(w.deals) == 0 && len(w.linked) == 0 {
		return
	}
	stageName := map[string]string{}
	for _, s := range st.Stages {
		stageName[s.ID] = s.Name
	}
	notes := map[string][]string{} // deal id → its erpbridge notes, oldest first
	for _, n := range st.Notes {
		if strings.HasPrefix(n.Text, "erpbridge: ") {
			notes[n.DealID] = append(notes[n.DealID], n.Text)
		}
	}
	byNumber := map[string][]rdsim.Deal{}
	for _, d := range st.Deals {
		num := value(d.CustomFields, "deal/Pedido ERP")
		if num == "" && slices.Contains(skipDeals, d.ID) {
			continue
		}
		if linked, ok := w.linked[d.ID]; ok {
			if num != linked {
				c.fail("deal %s made into order %s: order number %q on it", d.ID, linked, num)
			}
			continue
		}
		byNumber[num] = append(byNumber[num], d)
	}
	for num, want := range w.deals {
		have := byNumber[num]
		if len(have) != 1 {
			c.fail("order %s: %d deals with its number, want exactly 1", num, len(have))
			continue
		}
		d := have[0]
		if d.Name != want.name || orgName[d.OrganizationID] != want.org || stageName[d.StageID] != want.stage || fmt.Sprint(deref(d.Win)) != fmt.Sprint(deref(want.win)) {
			c.fail("order %s: deal %q of %q in stage %q, win %v; want %q of %q in %q, win %v", num, d.Name, orgName[d.OrganizationID],
				stageName[d.StageID], deref(d.Win), want.name, want.org, want.stage, deref(want.win))
		}
		var lines, wantLines []string
		var total decimal.Decimal
		for _, p := range d.Products {
			lines = append(lines, wantLine{product: productName[p.ProductID], amount: p.Amount, price: p.Price}.String())
			total = total.Add(p.Price.Mul(p.Amount).Sub(p.Discount))
			if !p.Discount.IsZero() {
				c.fail("order %s: a line with a discount %s", num, p.Discount)
			}
		}
		for _, l := range want.lines {
			wantLines = append(wantLines, l.String())
		}
		slices.Sort(lines)
		slices.Sort(wantLines)
		if !slices.Equal(lines, wantLines) {
			c.fail("order %s: deal lines (product|amount|price)\n have %v\n want %v", num, lines, wantLines)
		}
		if !total.Equal(want.total) {
			c.fail("order %s: the deal totals %s in the CRM, the ERP %s (Σ C6_VALOR)", num, total, want.total)
		}
		// The note (docs/mapping.md "The deal's note"): titled with the
		// order number, naming each item left out or shown as 1 × its value,
		// written again only when its lines change.
		var note string
		if ns := notes[d.ID]; len(ns) > 0 {
			note = ns[len(ns)-1]
			for i := 1; i < len(ns); i++ {
				if body(ns[i]) == body(ns[i-1]) {
					c.fail("order %s: its deal's note was written again with the same lines (%d notes): %q", num, len(ns), ns[i])
					break
				}
			}
		}
		if len(want.noteItems) > 0 && !strings.HasPrefix(note, "erpbridge: ERP order "+num+"\n") {
			c.fail("order %s: the deal's last note is %q, want one titled %q", num, note, "erpbridge: ERP order "+num)
		}
		for _, it := range want.noteItems {
			if !strings.Contains(note, it+" ") {
				c.fail("order %s: the deal's note does not name %s: %q", num, it, note)
			}
		}
	}
	for num, have := range byNumber {
		if _, ok := w.deals[num]; !ok {
			for _, d := range have {
				c.fail("unexpected deal %q (order number %q)", d.Name, num)
			}
		}
	}
	for id, num := range w.linked {
		found := slices.ContainsFunc(st.Deals, func(d rdsim.Deal) bool { return d.ID == id })
		if !found {
			c.fail("the deal order %s was made from (%s) is not in the CRM", num, id)
		}
	}
}

// assertDealTotals reads every deal's amount_total through the CRM API
// (what a user sees) and asserts it is the ERP's Σ C6_VALOR to the cent.
func assertDealTotals(t *testing.T, sim standaloneSim, w crmWant) {
	t.Helper()
	c := &crmChecker{t: t}
	defer c.done()
	type apiDeal struct {
		Name         string          `json:"name"`
		AmountTotal  decimal.Decimal `json:"amount_total"`
		CustomFields []struct {
			Value any `json:"value"`
		} `json:"deal_custom_fields"`
	}
	totals := map[string]decimal.Decimal{} // deal name → amount_total
	for page := 1; page <= 50; page++ {
		var resp struct {
			Deals   []apiDeal `json:"deals"`
			HasMore bool      `json:"has_more"`
		}
		getJSON(t, fmt.Sprintf("%s/deals?token=%s&limit=200&page=%d", sim.baseURL, e2eToken, page), &resp)
		for _, d := range resp.Deals {
			totals[d.Name] = d.AmountTotal
		}
		if !resp.HasMore {
			break
		}
	}
	for num, want := range w.deals {
		if got, ok := totals[want.name]; !ok || !got.Equal(want.total) {
			c.fail("order %s: GET /deals shows %q with amount_total %s (found %v), want %s (Σ C6_VALOR)", num, want.name, got, ok, want.total)
		}
	}
}

// body is a note without its title line.
func body(note string) string {
	_, b, _ := strings.Cut(note, "\n")
	return b
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

var recnoKey = regexp.MustCompile(`#[0-9]+`)

// assertListed asserts that `errors list --json` lists every warned and
// failed record, once, naming its key and the expected text, as a warning
// (level skip) or an error, and nothing else.
func assertListed(t *testing.T, errs []errorRow, w crmWant) {
	t.Helper()
	c := &crmChecker{t: t}
	defer c.done()
	byKey := map[string][]errorRow{}
	for _, e := range errs {
		k := e.ERPKey
		if m := recnoKey.FindString(k); m != "" { // a keyless row: its key names #R_E_C_N_O_
			k = m
		}
		byKey[listed(e.Stream, k)] = append(byKey[listed(e.Stream, k)], e)
	}
	for key, text := range w.warned {
		es := byKey[key]
		if len(es) != 1 || es[0].State != "warning" || es[0].Level != "skip" || !strings.Contains(es[0].Error, text) {
			c.fail("errors list: %s: %+v, want one warning at level skip naming %q", key, es, text)
		}
	}
	for key, text := range w.failed {
		es := byKey[key]
		if len(es) != 1 || es[0].State == "warning" || !strings.Contains(es[0].Error, text) {
			c.fail("errors list: %s: %+v, want one error naming %q", key, es, text)
		}
	}
	for key, es := range byKey {
		_, warned := w.warned[key]
		_, failed := w.failed[key]
		if !warned && !failed {
			c.fail("errors list: unexpected %+v", es)
		}
	}
}
