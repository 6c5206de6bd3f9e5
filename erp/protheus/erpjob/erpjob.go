// Package erpjob is a stand-in for the customer's ERP job that consumes the
// order staging table: in real life a scheduled ADVPL job reads waiting
// ZB1010 rows (or those of the aliases won_deals.staging names) and runs
// MATA410 through MsExecAuto. Run does the same against
// a fixture ERP (SQLite or PostgreSQL): it validates each waiting deal like
// MATA410 would, creates the SC5/SC6 order with C5_XCRMID = the deal id, and
// writes the outcome back (done + ZB1_NUMPED, or error + ZB1_ERRO). It is
// for tests and the demo, not for production.
package erpjob

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
)

// Options configure what the job requires; in a real install this is the
// SX3 dictionary (X3_OBRIGAT), triggers and entry points.
type Options struct {
	// RequireTES rejects an item without a TES (C6_TES), after the
	// product's default (B1_TS) has been applied.
	RequireTES bool
	// RequirePaymentTerms rejects an order without payment terms
	// (C5_CONDPAG), after the customer's default (A1_COND) has been applied.
	RequirePaymentTerms bool
	// NoDefaults turns off the dictionary triggers (gatilhos) that fill a
	// blank TES from B1_TS and blank payment terms from A1_COND.
	NoDefaults bool
	// Limit bounds the staging rows one Run handles (default 100).
	Limit int
	// Staging names the staging tables (default
	// protheus.DefaultStagingAliases: ZB1, ZB2).
	Staging protheus.StagingAliases
}

// Outcome is what Run did with one staging row.
type Outcome struct {
	Recno  int64  // ZB1 R_E_C_N_O_
	DealID string // ZB1_DEALID
	Status string // fixture.StagingDone or fixture.StagingError
	Num    string // C5_NUM of the order, when done
	Reused bool   // the deal already had an order (C5_XCRMID); none was created
	Error  string // ZB1_ERRO, when rejected
}

// staged is one waiting ZB1 row.
type staged struct {
	recno                                           int64
	dealID, customer, loja, seller, terms, priceTab string
}

// tables names the staging tables and fields of one Run.
type tables struct {
	header, items string // physical names
	h, i          func(name string) string
}

func newTables(a protheus.StagingAliases) tables {
	if a == (protheus.StagingAliases{}) {
		a = protheus.DefaultStagingAliases
	}
	header, items := a.Tables(fixture.Company)
	return tables{header: header, items: items,
		h: func(n string) string { return protheus.FieldName(a.Header, n) },
		i: func(n string) string { return protheus.FieldName(a.Items, n) }}
}

var (
	sa1 = protheus.TableName("SA1", fixture.Company)
	sb1 = protheus.TableName("SB1", fixture.Company)
	sa3 = protheus.TableName("SA3", fixture.Company)
	sc5 = protheus.TableName("SC5", fixture.Company)
)

// Run handles the waiting staging rows of fixture.OrderFilial, oldest
// first, at most opts.Limit of them. Each row is claimed (status '1')
// before it is processed, so concurrent Runs never handle a row twice, and
// the order and the row's final status are written in one transaction. A
// deal that already has an order (C5_XCRMID) is marked done with that
// order's number. Rejections are outcomes, not errors; an error means the
// database failed, and the row being processed is put back to waiting.
func Run(ctx context.Context, e fixture.ERP, opts Options) ([]Outcome, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = 100
	}
	t := newTables(opts.Staging)
	rows, err := waiting(ctx, e, t, limit)
	if err != nil {
		return nil, err
	}
	var out []Outcome
	for _, s := range rows {
		claimed, err := claim(ctx, e, t, s.recno)
		if err != nil {
			return out, fmt.Errorf("claiming deal %s: %w", s.dealID, err)
		}
		if !claimed {
			continue // another job took it
		}
		o, err := process(ctx, e, t, opts, s)
		if err != nil {
			release(e, t, s.recno)
			return out, fmt.Errorf("processing deal %s: %w", s.dealID, err)
		}
		out = append(out, o)
	}
	return out, nil
}

func waiting(ctx context.Context, e fixture.ERP, t tables, limit int) ([]staged, error) {
	rows, err := e.DB.QueryContext(ctx, "SELECT R_E_C_N_O_, "+t.h("DEALID")+", "+t.h("CLIENT")+", "+t.h("LOJA")+", "+t.h("VEND")+", "+t.h("CONDPG")+", "+t.h("TABELA")+
		" FROM "+t.header+" WHERE "+t.h("FILIAL")+" = "+e.Placeholder(1)+" AND "+t.h("STATUS")+" = "+e.Placeholder(2)+
		" AND D_E_L_E_T_ = ' ' ORDER BY R_E_C_N_O_ LIMIT "+e.Placeholder(3),
		fixture.OrderFilial, fixture.StagingWaiting, limit)
	if err != nil {
		return nil, fmt.Errorf("reading waiting staging rows: %w", err)
	}
	defer rows.Close()
	var out []staged
	for rows.Next() {
		var s staged
		if err := rows.Scan(&s.recno, &s.dealID, &s.customer, &s.loja, &s.seller, &s.terms, &s.priceTab); err != nil {
			return nil, fmt.Errorf("reading waiting staging rows: %w", err)
		}
		for _, p := range []*string{&s.dealID, &s.customer, &s.loja, &s.seller, &s.terms, &s.priceTab} {
			*p = strings.TrimRight(*p, " ")
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading waiting staging rows: %w", err)
	}
	return out, nil
}

// claim moves a row from waiting to processing; false when it was no
// longer waiting.
func claim(ctx context.Context, e fixture.ERP, t tables, recno int64) (bool, error) {
	res, err := e.DB.ExecContext(ctx, "UPDATE "+t.header+" SET "+t.h("STATUS")+" = "+e.Placeholder(1)+", "+t.h("TENTAT")+" = "+t.h("TENTAT")+" + 1"+
		" WHERE R_E_C_N_O_ = "+e.Placeholder(2)+" AND "+t.h("STATUS")+" = "+e.Placeholder(3)+" AND D_E_L_E_T_ = ' '",
		fixture.StagingProcessing, recno, fixture.StagingWaiting)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// release puts a claimed row back to waiting after a failure, even when
// the Run's context is already cancelled.
func release(e fixture.ERP, t tables, recno int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = e.DB.ExecContext(ctx, "UPDATE "+t.header+" SET "+t.h("STATUS")+" = "+e.Placeholder(1)+" WHERE R_E_C_N_O_ = "+e.Placeholder(2)+
		" AND "+t.h("STATUS")+" = "+e.Placeholder(3),
		fixture.StagingWaiting, recno, fixture.StagingProcessing)
}

func process(ctx context.Context, e fixture.ERP, t tables, opts Options, s staged) (Outcome, error) {
	tx, err := e.DB.BeginTx(ctx, nil)
	if err != nil {
		return Outcome{}, err
	}
	defer tx.Rollback()
	o := Outcome{Recno: s.recno, DealID: s.dealID}
	existing, err := orderOfDeal(ctx, e, tx, s.dealID)
	if err != nil {
		return Outcome{}, err
	}
	if existing != "" {
		o.Status, o.Num, o.Reused = fixture.StagingDone, existing, true
	} else {
		order, problems, err := validate(ctx, e, tx, t, opts, s)
		if err != nil {
			return Outcome{}, err
		}
		if len(problems) > 0 {
			o.Status, o.Error = fixture.StagingError, strings.Join(problems, "\n")
		} else if o.Num, err = e.AddOrderTx(ctx, tx, order); err != nil {
			return Outcome{}, err
		} else {
			o.Status = fixture.StagingDone
		}
	}
	now := time.Now().UTC()
	if _, err := tx.ExecContext(ctx, "UPDATE "+t.header+" SET "+t.h("STATUS")+" = "+e.Placeholder(1)+", "+t.h("NUMPED")+" = "+e.Placeholder(2)+
		", "+t.h("ERRO")+" = "+e.Placeholder(3)+", "+t.h("DTPROC")+" = "+e.Placeholder(4)+", "+t.h("HRPROC")+" = "+e.Placeholder(5)+
		" WHERE R_E_C_N_O_ = "+e.Placeholder(6),
		o.Status, protheus.PadFilial(o.Num, 6), o.Error, now.Format("20060102"), now.Format("15:04:05"), s.recno); err != nil {
		return Outcome{}, fmt.Errorf("writing staging status: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Outcome{}, err
	}
	return o, nil
}

// orderOfDeal returns the number of the live order created from a deal, or "".
func orderOfDeal(ctx context.Context, e fixture.ERP, tx *sql.Tx, dealID string) (string, error) {
	var num string
	err := tx.QueryRowContext(ctx, "SELECT C5_NUM FROM "+sc5+" WHERE C5_FILIAL = "+e.Placeholder(1)+" AND C5_XCRMID = "+e.Placeholder(2)+
		" AND D_E_L_E_T_ = ' ' ORDER BY R_E_C_N_O_ LIMIT 1", fixture.OrderFilial, protheus.PadFilial(dealID, 24)).Scan(&num)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("looking up the order of deal %s: %w", dealID, err)
	}
	return strings.TrimRight(num, " "), nil
}

// validate checks a staged deal as MATA410 would and builds the order;
// problems are MATA410-style messages naming the field at fault.
func validate(ctx context.Context, e fixture.ERP, tx *sql.Tx, t tables, opts Options, s staged) (fixture.NewOrder, []string, error) {
	var problems []string
	order := fixture.NewOrder{Customer: s.customer, Loja: s.loja, Seller: s.seller, PaymentTerms: s.terms,
		PriceTable: s.priceTab, CRMID: s.dealID}

	var blocked, custTerms string
	err := tx.QueryRowContext(ctx, "SELECT A1_MSBLQL, A1_COND FROM "+sa1+" WHERE A1_FILIAL = "+e.Placeholder(1)+" AND A1_COD = "+e.Placeholder(2)+
		" AND A1_LOJA = "+e.Placeholder(3)+" AND D_E_L_E_T_ = ' '",
		fixture.SharedFilial, protheus.PadFilial(s.customer, 6), protheus.PadFilial(s.loja, 2)).Scan(&blocked, &custTerms)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		problems = append(problems, fmt.Sprintf("C5_CLIENTE: cliente %s/%s não cadastrado (SA1)", s.customer, s.loja))
	case err != nil:
		return order, nil, fmt.Errorf("reading customer %s/%s: %w", s.customer, s.loja, err)
	case protheus.IsBlocked(blocked):
		problems = append(problems, fmt.Sprintf("C5_CLIENTE: cliente %s/%s bloqueado para uso (A1_MSBLQL)", s.customer, s.loja))
	}
	if order.PaymentTerms == "" && !opts.NoDefaults {
		order.PaymentTerms = strings.TrimSpace(custTerms)
	}
	if order.PaymentTerms == "" && opts.RequirePaymentTerms {
		problems = append(problems, "C5_CONDPAG: condição de pagamento obrigatória")
	}
	if s.seller != "" {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+sa3+" WHERE A3_FILIAL = "+e.Placeholder(1)+" AND A3_COD = "+e.Placeholder(2)+" AND D_E_L_E_T_ = ' '",
			fixture.SellerFilial, protheus.PadFilial(s.seller, 6)).Scan(&n); err != nil {
			return order, nil, fmt.Errorf("reading seller %s: %w", s.seller, err)
		}
		if n == 0 {
			problems = append(problems, fmt.Sprintf("C5_VEND1: vendedor %s não cadastrado (SA3)", s.seller))
		}
	}

	items, err := stagedItems(ctx, e, tx, t, s.dealID)
	if err != nil {
		return order, nil, err
	}
	if len(items) == 0 {
		problems = append(problems, "C6_ITEM: pedido sem itens")
	}
	for _, it := range items {
		var desc, blockedProd, tes string
		err := tx.QueryRowContext(ctx, "SELECT B1_DESC, B1_MSBLQL, B1_TS FROM "+sb1+" WHERE B1_FILIAL = "+e.Placeholder(1)+" AND B1_COD = "+e.Placeholder(2)+
			" AND D_E_L_E_T_ = ' '", fixture.SharedFilial, protheus.PadFilial(it.product, 15)).Scan(&desc, &blockedProd, &tes)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			problems = append(problems, fmt.Sprintf("C6_PRODUTO item %s: produto %s não cadastrado (SB1)", it.item, it.product))
		case err != nil:
			return order, nil, fmt.Errorf("reading product %s: %w", it.product, err)
		case protheus.IsBlocked(blockedProd):
			problems = append(problems, fmt.Sprintf("C6_PRODUTO item %s: produto %s bloqueado para uso (B1_MSBLQL)", it.item, it.product))
		}
		if !it.qty.IsPositive() {
			problems = append(problems, fmt.Sprintf("C6_QTDVEN item %s: quantidade %s deve ser maior que zero", it.item, it.qty))
		}
		if !it.price.IsPositive() {
			problems = append(problems, fmt.Sprintf("C6_PRCVEN item %s: preço %s deve ser maior que zero", it.item, it.price))
		}
		if it.tes == "" && !opts.NoDefaults {
			it.tes = strings.TrimSpace(tes)
		}
		if it.tes == "" && opts.RequireTES {
			problems = append(problems, fmt.Sprintf("C6_TES item %s: TES obrigatória", it.item))
		}
		order.Items = append(order.Items, fixture.NewOrderItem{Product: it.product, Description: strings.TrimRight(desc, " "),
			TES: it.tes, Qty: it.qty, Price: it.price})
	}
	if len(items) > protheus.MaxOrderItems {
		problems = append(problems, fmt.Sprintf("C6_ITEM: %d itens, máximo %d", len(items), protheus.MaxOrderItems))
	}
	return order, problems, nil
}

type stagedItem struct {
	item, product, tes string
	qty, price         decimal.Decimal
}

func stagedItems(ctx context.Context, e fixture.ERP, tx *sql.Tx, t tables, dealID string) ([]stagedItem, error) {
	rows, err := tx.QueryContext(ctx, "SELECT "+t.i("ITEM")+", "+t.i("PRODUT")+", "+t.i("QTDVEN")+", "+t.i("PRCVEN")+", "+t.i("TES")+" FROM "+t.items+
		" WHERE "+t.i("FILIAL")+" = "+e.Placeholder(1)+" AND "+t.i("DEALID")+" = "+e.Placeholder(2)+" AND D_E_L_E_T_ = ' ' ORDER BY R_E_C_N_O_ LIMIT "+e.Placeholder(3),
		fixture.OrderFilial, protheus.PadFilial(dealID, 24), protheus.MaxOrderItems+1)
	if err != nil {
		return nil, fmt.Errorf("reading staged items of deal %s: %w", dealID, err)
	}
	defer rows.Close()
	var out []stagedItem
	for rows.Next() {
		var it stagedItem
		var qty, price float64
		if err := rows.Scan(&it.item, &it.product, &qty, &price, &it.tes); err != nil {
			return nil, fmt.Errorf("reading staged items of deal %s: %w", dealID, err)
		}
		it.item, it.product, it.tes = strings.TrimRight(it.item, " "), strings.TrimRight(it.product, " "), strings.TrimSpace(it.tes)
		it.qty, it.price = decimal.NewFromFloat(qty).Round(2), decimal.NewFromFloat(price).Round(2)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading staged items of deal %s: %w", dealID, err)
	}
	return out, nil
}
