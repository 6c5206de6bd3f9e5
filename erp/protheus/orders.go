package protheus

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// Orders is SC5 (Pedido de venda, cabeçalho), usually exclusive: pass the
// filial the orders belong to. Append CRMIDField().Column() to the result's
// Columns when the install has the custom deal-id field.
func Orders(company, filial string) (sqlerp.TableSpec, error) { return Table("SC5", company, filial) }

// OrderItems is SC6 (Itens do pedido de venda); see ItemsOf.
func OrderItems(company, filial string) (sqlerp.TableSpec, error) {
	return Table("SC6", company, filial)
}

// Sellers is SA3 (Vendedores); A3_EMAIL finds the CRM owner.
func Sellers(company, filial string) (sqlerp.TableSpec, error) { return Table("SA3", company, filial) }

// Invoices is SF2 (Nota fiscal de saída, cabeçalho), exclusive like SC5:
// an order's items name their invoice in C6_NOTA + C6_SERIE; F2_VALBRUT is
// its gross value (items, taxes added to the price, freight). See InvoiceOf.
func Invoices(company, filial string) (sqlerp.TableSpec, error) { return Table("SF2", company, filial) }

// TES is SF4 (Tipos de entrada e saída): F4_DUPLIC = 'N' marks an
// operation that creates no receivable (a bonus, a shipment for
// demonstration or consignment). See TESOf.
func TES(company, filial string) (sqlerp.TableSpec, error) { return Table("SF4", company, filial) }

// InvoiceOf matches the SF2 rows of one invoice (the filial comes from the
// SF2 Source).
func InvoiceOf(doc, serie string) []erp.Match {
	return []erp.Match{{Column: "F2_DOC", Value: doc}, {Column: "F2_SERIE", Value: serie}}
}

// ItemsOfInvoice matches the SC6 items one invoice delivered (C6_NOTA +
// C6_SERIE, SC6's index 4): an invoice whose items belong to more than one
// order cannot tell each order's share of F2_VALBRUT.
func ItemsOfInvoice(doc, serie string) []erp.Match {
	return []erp.Match{{Column: "C6_NOTA", Value: doc}, {Column: "C6_SERIE", Value: serie}}
}

// OrdersOf matches the SC5 orders of one customer store (SC5's index 3,
// C5_FILIAL + C5_CLIENTE + C5_LOJACLI + C5_NUM).
func OrdersOf(cod, loja string) []erp.Match {
	return []erp.Match{{Column: "C5_CLIENTE", Value: cod}, {Column: "C5_LOJACLI", Value: loja}}
}

// NoReceivable is the F4_DUPLIC of a TES that creates no receivable.
const NoReceivable = "N"

// Order types (C5_TIPO).
const (
	TypeNormal          = "N" // a sale to an SA1 customer
	TypePriceComplement = "C" // a price or quantity complement of an earlier sale
	TypeICMSComplement  = "I" // an ICMS complement
	TypeIPIComplement   = "P" // an IPI complement
	TypeReturn          = "D" // a return of purchases: C5_CLIENTE names an SA2 supplier
	TypeBeneficiamento  = "B" // goods sent for processing: C5_CLIENTE names an SA2 supplier
)

// OrderTypes lists the C5_TIPO values: only TypeNormal is a sale to a
// customer; complements (C, I, P) only correct an earlier sale's value,
// and returns (D) and beneficiamento (B) name a supplier (SA2) in
// C5_CLIENTE, so an SA1 customer that shares the code is not theirs.
func OrderTypes() []string {
	return []string{TypeNormal, TypePriceComplement, TypeICMSComplement, TypeIPIComplement, TypeReturn, TypeBeneficiamento}
}

// Optional is a standard field a stream goes without when the table lacks
// it (an older release, a trimmed dictionary): it only refines what the
// stream sends, and reads as Default when absent.
type Optional struct {
	Name    string
	Default erp.Value
}

// OptionalOrderFields are the SC5 and SC6 fields the orders stream reads
// when the table has them, with the value it uses otherwise: C5_MOEDA 1
// (the local currency), C6_TES blank (a TES that is not known creates a
// receivable), C6_NOTA blank (no invoice to read a gross value from),
// zero discounts, blank codes. Every other field of OrderFields is needed.
func OptionalOrderFields(alias string) []Optional {
	zero := decimal.Zero
	switch strings.ToUpper(alias) {
	case "SC5":
		return []Optional{
			{"C5_CLIENT", ""}, {"C5_LOJAENT", ""}, {"C5_TIPOCLI", ""}, {"C5_CONDPAG", ""}, {"C5_TABELA", ""},
			{"C5_MOEDA", decimal.NewFromInt(1)}, {"C5_FRETE", zero}, {"C5_TPFRETE", ""}, {"C5_MENNOTA", ""}, {"C5_SERIE", ""},
		}
	case "SC6":
		return []Optional{
			{"C6_DESCRI", ""}, {"C6_UM", ""}, {"C6_PRUNIT", zero}, {"C6_DESCONT", zero}, {"C6_VALDESC", zero},
			{"C6_TES", ""}, {"C6_OPER", ""}, {"C6_CF", ""}, {"C6_LOCAL", ""}, {"C6_CLI", ""}, {"C6_LOJA", ""},
			{"C6_ENTREG", nil}, {"C6_QTDLIB", zero}, {"C6_NOTA", ""}, {"C6_SERIE", ""}, {"C6_DATFAT", nil},
			{"C6_BLQ", ""}, {"C6_PEDCLI", ""},
		}
	}
	return nil
}

// CRMIDField is the custom SC5 field holding the CRM deal id an order was
// created from (RD Station ids are 24 hex characters). It is the write-back
// idempotency key: look it up before creating an order.
func CRMIDField() Field { return c("C5_XCRMID", 24) }

// ItemsOf matches the SC6 rows of one order (C6_NUM); the filial comes from
// the SC6 Source. Orders may have more than 100 items: size Find's limit
// with MaxOrderItems.
func ItemsOf(num string) []erp.Match {
	return []erp.Match{{Column: "C6_NUM", Value: num}}
}

// MaxOrderItems is how many items one order can number with the two-char
// C6_ITEM ("01"…"99", "9A"…"9Z", "A0"…"ZZ"); see ItemCode.
const MaxOrderItems = 99 + 26 + 26*36

const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// ItemCode returns the C6_ITEM of the n-th item (1-based) as Protheus's
// Soma1 numbers them: "01"…"99", then "9A"…"9Z", then "A0"…"ZZ".
func ItemCode(n int) (string, error) {
	switch {
	case n < 1 || n > MaxOrderItems:
		return "", fmt.Errorf("numbering item %d: want 1…%d", n, MaxOrderItems)
	case n <= 99:
		return fmt.Sprintf("%02d", n), nil
	case n <= 99+26:
		return "9" + string(alnum[10+n-100]), nil
	}
	k := n - 126
	return string(alnum[10+k/36]) + string(alnum[k%36]), nil
}

// Status is a sales order's state as the MATA410 browse legend shows it.
type Status string

// Order states (erp-schemas.md §2, "Order status derivation").
const (
	StatusOpen              Status = "open"               // green: nothing released, invoiced or blocked
	StatusReleased          Status = "released"           // yellow: C5_LIBEROK filled
	StatusPartiallyInvoiced Status = "partially_invoiced" // some but not all quantity delivered (C6_QTDENT)
	StatusInvoiced          Status = "invoiced"           // red: closed by invoicing (C5_NOTA, C5_LIBEROK='E', all delivered)
	StatusResidueEliminated Status = "residue_eliminated" // closed without (full) invoicing: C5_NOTA='XXXXXXXXX'
	StatusBlocked           Status = "blocked"            // C5_BLQ filled: '1' business rule, '2' verba, or a custom code
)

// Statuses lists every Status, in the order the legend shows them.
func Statuses() []Status {
	return []Status{StatusOpen, StatusReleased, StatusPartiallyInvoiced, StatusInvoiced, StatusResidueEliminated, StatusBlocked}
}

// C5_BLQ and C5_LIBEROK codes.
const (
	BlockedByRule  = "1" // C5_BLQ: blocked by a business rule (regra)
	BlockedByVerba = "2" // C5_BLQ: blocked by verba
	Released       = "S" // C5_LIBEROK: released for invoicing
	Closed         = "E" // C5_LIBEROK: closed (encerrado)
)

// OrderStatus derives an order's Status from its SC5 header and live SC6
// items (deleted items are ignored; nil items fall back to the header).
// Rules, first match wins:
//  1. C5_NOTA all X ("XXXXXXXXX"): residue-eliminated, whatever else is set
//     (it never names a real invoice, even after a partial delivery).
//  2. Every item fully delivered (SUM(C6_QTDENT) ≥ SUM(C6_QTDVEN) > 0): invoiced.
//  3. C5_NOTA filled while the items show a partial delivery: partially
//     invoiced (the rest of the order is still to be invoiced).
//  4. C5_NOTA filled or C5_LIBEROK = 'E': invoiced (closed).
//  5. C5_BLQ filled ('1' rule, '2' verba, custom codes): blocked.
//  6. 0 < SUM(C6_QTDENT) < SUM(C6_QTDVEN): partially invoiced.
//  7. C5_LIBEROK filled: released.
//  8. Otherwise open.
func OrderStatus(header erp.Record, items []erp.Record) Status {
	nota := text(header, "C5_NOTA")
	liberok := text(header, "C5_LIBEROK")
	var sold, delivered decimal.Decimal
	for _, it := range items {
		if it.Deleted {
			continue
		}
		sold = sold.Add(number(it, "C6_QTDVEN"))
		delivered = delivered.Add(number(it, "C6_QTDENT"))
	}
	partial := delivered.IsPositive() && delivered.LessThan(sold)
	switch {
	case nota != "" && strings.Trim(nota, "X") == "":
		return StatusResidueEliminated
	case sold.IsPositive() && delivered.GreaterThanOrEqual(sold):
		return StatusInvoiced
	case nota != "" && partial:
		return StatusPartiallyInvoiced
	case nota != "" || liberok == Closed:
		return StatusInvoiced
	case text(header, "C5_BLQ") != "":
		return StatusBlocked
	case partial:
		return StatusPartiallyInvoiced
	case liberok != "":
		return StatusReleased
	}
	return StatusOpen
}

// text returns a field as a trimmed string ("" when absent or not text).
func text(r erp.Record, name string) string {
	s, _ := r.Fields[name].(string)
	return strings.TrimSpace(s)
}

// number returns a numeric field as a decimal (zero when absent).
func number(r erp.Record, name string) decimal.Decimal {
	switch v := r.Fields[name].(type) {
	case decimal.Decimal:
		return v
	case int64:
		return decimal.NewFromInt(v)
	case string:
		d, err := decimal.NewFromString(strings.TrimSpace(v))
		if err == nil {
			return d
		}
	}
	return decimal.Zero
}
