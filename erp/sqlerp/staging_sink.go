package sqlerp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/sijms/go-ora/v2/network"

	"github.com/erpbridge/erpbridge/bridge/retry"
	"github.com/erpbridge/erpbridge/erp"
)

// Defaults of a StagingSink's conflict retries (see WithStagingRetries).
const (
	DefaultStagingAttempts = 10
	DefaultStagingBackoff  = 20 * time.Millisecond
)

// StagingSink is an erp.OrderSink that writes won deals into a pair of
// staging tables (StagingSpec) an ERP job turns into sales orders. It only
// ever SELECTs and INSERTs: the status columns are the job's.
//
// Submit writes a deal's items and then its header (status Waiting) in one
// transaction, numbering rows MAX(recno)+1 inside it, after looking the deal
// up: a deal staged before is answered from its header row and nothing is
// written. When a concurrent Submit of the same deal (or of another deal
// that took the same record number) wins the race, the unique key or the
// primary key refuses the loser's insert; the sink then rolls back and tries
// again, and the next lookup answers with the winner's row.
//
// Numbers are rounded to their column's decimals and bound as float64: the
// staging columns are FLOATs (as DBAccess creates N fields), and a decimal
// of at most 15 significant digits survives the trip exactly (Submit
// refuses one that would not). Value is computed in decimal, Quantity ×
// UnitPrice rounded to the Value column's decimals. An item without a
// UnitPrice is written with price 0, for the ERP job to price from the
// order's price table (a job that does not, rejects it).
type StagingSink struct {
	db       *sql.DB
	d        Dialect
	spec     StagingSpec
	now      func() time.Time
	attempts int
	backoff  time.Duration
}

var _ erp.OrderSink = (*StagingSink)(nil)

// StagingOption tunes a StagingSink.
type StagingOption func(*StagingSink)

// WithStagingClock sets the clock of the created date and time (default
// time.Now; written in UTC).
func WithStagingClock(now func() time.Time) StagingOption {
	return func(s *StagingSink) { s.now = now }
}

// WithStagingRetries sets how many times Submit runs its transaction when
// it loses a race (a unique or primary key violation, a deadlock, a busy
// SQLite database) and the first wait between runs, doubled each time up
// to a second, jittered by half (defaults DefaultStagingAttempts,
// DefaultStagingBackoff).
func WithStagingRetries(attempts int, backoff time.Duration) StagingOption {
	return func(s *StagingSink) {
		if attempts > 0 {
			s.attempts = attempts
		}
		if backoff > 0 {
			s.backoff = backoff
		}
	}
}

// NewStagingSink validates spec (without I/O) and returns a sink writing
// through db, which it does not own.
func NewStagingSink(db *sql.DB, d Dialect, spec StagingSpec, opts ...StagingOption) (*StagingSink, error) {
	if db == nil || d == nil {
		return nil, errors.New("creating staging sink: no database or dialect")
	}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("creating staging sink: %w", err)
	}
	s := &StagingSink{db: db, d: d, spec: spec, now: time.Now, attempts: DefaultStagingAttempts, backoff: DefaultStagingBackoff}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Submit implements erp.OrderSink. A new deal answers OrderWaiting; a deal
// staged before answers with its row's state (waiting or processing →
// OrderWaiting, done → OrderDone with the number, error → OrderRejected
// with the job's text). An order that cannot be written as is (a code
// wider than its column, a number too large) is an error before any I/O.
func (s *StagingSink) Submit(ctx context.Context, o erp.Order) (erp.OrderResult, error) {
	dealID := trimBlanks(o.DealID)
	header, items, err := s.rows(o, s.now().UTC())
	if err != nil {
		return erp.OrderResult{}, fmt.Errorf("staging deal %s: %w", dealID, err)
	}
	// Jittered, so racing writers do not collide again in step.
	p := retry.Policy{First: s.backoff, Max: time.Second, Jitter: 0.5, Attempts: s.attempts}
	res, err := retry.Do(ctx, p, isStagingConflict, func() (erp.OrderResult, error) {
		return s.stage(ctx, dealID, header, items)
	})
	if err != nil {
		return erp.OrderResult{}, fmt.Errorf("staging deal %s: %w", dealID, err)
	}
	return res, nil
}

// Status implements erp.OrderSink: the state of the deal's live header row.
func (s *StagingSink) Status(ctx context.Context, dealID string) (erp.OrderResult, bool, error) {
	dealID = trimBlanks(dealID)
	if dealID == "" {
		return erp.OrderResult{}, false, nil
	}
	res, ok, err := s.lookup(ctx, s.db, dealID)
	if err != nil {
		return erp.OrderResult{}, false, fmt.Errorf("reading staging status of deal %s: %w", dealID, err)
	}
	return res, ok, nil
}

// stage runs one Submit transaction.
func (s *StagingSink) stage(ctx context.Context, dealID string, header stagingRow, items []stagingRow) (erp.OrderResult, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return erp.OrderResult{}, fmt.Errorf("beginning transaction: %w", err)
	}
	defer tx.Rollback()
	if res, ok, err := s.lookup(ctx, tx, dealID); err != nil || ok {
		return res, err
	}
	if len(items) > 0 {
		recno, err := s.nextRecno(ctx, tx, s.spec.Items.Table)
		if err != nil {
			return erp.OrderResult{}, err
		}
		for k, it := range items {
			st := stagingInsertStatement(s.d, s.spec, s.spec.Items.Table, it, recno+int64(k))
			if _, err := tx.ExecContext(ctx, st.SQL, st.Args...); err != nil {
				return erp.OrderResult{}, fmt.Errorf("inserting item %d: %w", k+1, err)
			}
		}
	}
	recno, err := s.nextRecno(ctx, tx, s.spec.Header.Table)
	if err != nil {
		return erp.OrderResult{}, err
	}
	st := stagingInsertStatement(s.d, s.spec, s.spec.Header.Table, header, recno)
	if _, err := tx.ExecContext(ctx, st.SQL, st.Args...); err != nil {
		return erp.OrderResult{}, fmt.Errorf("inserting header: %w", err)
	}
	if err := tx.Commit(); err != nil {
		if isStagingConflict(err) {
			return erp.OrderResult{}, fmt.Errorf("committing: %w", err)
		}
		// The commit may have reached the database before the failure.
		return erp.OrderResult{}, fmt.Errorf("committing: %w: %w", erp.ErrOrderOutcomeUnknown, err)
	}
	return erp.OrderResult{State: erp.OrderWaiting}, nil
}

// rowQuerier is a *sql.DB or a *sql.Tx.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ rowQuerier = (*sql.DB)(nil)
	_ rowQuerier = (*sql.Tx)(nil)
)

// lookup reads the state of the deal's live header row.
func (s *StagingSink) lookup(ctx context.Context, q rowQuerier, dealID string) (erp.OrderResult, bool, error) {
	st := stagingLookupStatement(s.d, s.spec, dealID)
	var status, num, memo any
	err := q.QueryRowContext(ctx, st.SQL, st.Args...).Scan(&status, &num, &memo)
	if errors.Is(err, sql.ErrNoRows) {
		return erp.OrderResult{}, false, nil
	}
	if err != nil {
		return erp.OrderResult{}, false, fmt.Errorf("looking up header: %w", err)
	}
	res, err := s.result(status, num, memo)
	return res, err == nil, err
}

// result turns a header row's raw status, number and memo into a result.
func (s *StagingSink) result(status, num, memo any) (erp.OrderResult, error) {
	var vals [3]string
	for i, raw := range []any{status, num, memo} {
		if raw == nil {
			continue
		}
		v, err := text(raw)
		if err != nil {
			return erp.OrderResult{}, fmt.Errorf("reading header: %w", err)
		}
		vals[i] = v
	}
	code, number, reason := trimBlanks(vals[0]), trimBlanks(vals[1]), strings.TrimRight(vals[2], " \t\r\n\x00")
	st := s.spec.Statuses
	switch code {
	case trimBlanks(st.Waiting), trimBlanks(st.Processing):
		return erp.OrderResult{State: erp.OrderWaiting}, nil
	case trimBlanks(st.Done):
		if number == "" {
			return erp.OrderResult{}, fmt.Errorf("reading header: status %q (done) without an order number", code)
		}
		return erp.OrderResult{State: erp.OrderDone, Number: number}, nil
	case trimBlanks(st.Error):
		if reason == "" {
			reason = "rejected by the ERP job, which gave no reason"
		}
		return erp.OrderResult{State: erp.OrderRejected, Error: reason}, nil
	}
	return erp.OrderResult{}, fmt.Errorf("reading header: unknown status %q", code)
}

// nextRecno reads MAX(recno)+1 of a table inside the transaction.
func (s *StagingSink) nextRecno(ctx context.Context, tx *sql.Tx, table string) (int64, error) {
	st := stagingNextRecnoStatement(s.d, s.spec, table)
	var raw any
	if err := tx.QueryRowContext(ctx, st.SQL, st.Args...).Scan(&raw); err != nil {
		return 0, fmt.Errorf("numbering %s row: %w", strings.ToUpper(table), err)
	}
	n, err := convertRecno(raw)
	if err != nil {
		return 0, fmt.Errorf("numbering %s row: %w", strings.ToUpper(table), err)
	}
	return n, nil
}

// rows builds the header and item rows of an order, checking that every
// value fits its column.
func (s *StagingSink) rows(o erp.Order, now time.Time) (stagingRow, []stagingRow, error) {
	var errs []error
	char := func(c StagingColumn, v string) any {
		v = trimBlanks(v)
		if n := len([]rune(v)); n > c.Width {
			errs = append(errs, fmt.Errorf("%s: %q is longer than %d", strings.ToUpper(c.Name), v, c.Width))
		}
		return charArg(s.d, padRight(v, c.Width))
	}
	num := func(c StagingColumn, v decimal.Decimal) any {
		f, err := floatArg(c, v)
		if err != nil {
			errs = append(errs, err)
		}
		return f
	}
	h, it := s.spec.Header, s.spec.Items
	dealID := trimBlanks(o.DealID)
	if dealID == "" {
		return stagingRow{}, nil, errors.New("no deal id")
	}
	var header stagingRow
	header.add(h.Filial.Name, char(h.Filial, s.spec.Filial))
	header.add(h.DealID.Name, char(h.DealID, dealID))
	header.add(h.OrderType.Name, char(h.OrderType, o.OrderType))
	header.add(h.Customer.Name, char(h.Customer, o.Customer))
	header.add(h.Store.Name, char(h.Store, o.Store))
	header.add(h.Seller.Name, char(h.Seller, o.Seller))
	header.add(h.PaymentTerms.Name, char(h.PaymentTerms, o.PaymentTerms))
	header.add(h.PriceTable.Name, char(h.PriceTable, o.PriceTable))
	header.add(h.Message.Name, char(h.Message, truncate(trimBlanks(o.Message), h.Message.Width)))
	header.add(h.Status.Name, char(h.Status, s.spec.Statuses.Waiting))
	header.add(h.OrderNumber.Name, char(h.OrderNumber, ""))
	header.add(h.CreatedDate.Name, char(h.CreatedDate, now.Format("20060102")))
	header.add(h.CreatedTime.Name, char(h.CreatedTime, now.Format("15:04:05")))

	items := make([]stagingRow, 0, len(o.Items))
	for k, in := range o.Items {
		code, err := s.spec.ItemCode(k + 1)
		if err != nil {
			return stagingRow{}, nil, fmt.Errorf("numbering items: %w", err)
		}
		price := decimal.Zero // the ERP job prices it from the price table
		if in.UnitPrice != nil {
			price = *in.UnitPrice
		}
		qty := in.Quantity.Round(int32(it.Quantity.Decimals))
		price = price.Round(int32(it.UnitPrice.Decimals))
		var row stagingRow
		row.add(it.Filial.Name, char(it.Filial, s.spec.Filial))
		row.add(it.DealID.Name, char(it.DealID, dealID))
		row.add(it.Item.Name, char(it.Item, code))
		row.add(it.Product.Name, char(it.Product, in.Product))
		row.add(it.Quantity.Name, num(it.Quantity, qty))
		row.add(it.UnitPrice.Name, num(it.UnitPrice, price))
		row.add(it.ListPrice.Name, num(it.ListPrice, price))
		row.add(it.Value.Name, num(it.Value, qty.Mul(price)))
		row.add(it.TES.Name, char(it.TES, in.TES))
		row.add(it.Operation.Name, char(it.Operation, in.Operation))
		items = append(items, row)
	}
	if err := errors.Join(errs...); err != nil {
		return stagingRow{}, nil, err
	}
	return header, items, nil
}

// floatArg rounds v to the column's decimals and returns the float64 to
// bind, refusing a value the column cannot hold or a float64 cannot carry
// exactly.
func floatArg(c StagingColumn, v decimal.Decimal) (float64, error) {
	r := v.Round(int32(c.Decimals))
	if c.Width > 0 {
		digits := c.Width - c.Decimals
		if c.Decimals > 0 {
			digits-- // the decimal point
		}
		if r.Abs().GreaterThanOrEqual(decimal.New(1, int32(digits))) {
			return 0, fmt.Errorf("%s: %s does not fit N %d,%d", strings.ToUpper(c.Name), r, c.Width, c.Decimals)
		}
	}
	f := r.InexactFloat64()
	if !decimal.NewFromFloat(f).Equal(r) {
		return 0, fmt.Errorf("%s: %s has too many digits to be stored exactly", strings.ToUpper(c.Name), r)
	}
	return f, nil
}

// truncate cuts s to at most width runes.
func truncate(s string, width int) string {
	if r := []rune(s); len(r) > width {
		return string(r[:width])
	}
	return s
}

// isStagingConflict reports whether a Submit transaction lost a race and
// may succeed when run again: a unique or primary key violation, a
// deadlock or serialization failure, or a busy SQLite database.
func isStagingConflict(err error) bool {
	var pg interface{ SQLState() string } // pgx
	if errors.As(err, &pg) {
		switch pg.SQLState() {
		case "23505", "40001", "40P01": // unique_violation, serialization_failure, deadlock_detected
			return true
		}
		return false
	}
	var ms interface{ SQLErrorNumber() int32 } // go-mssqldb
	if errors.As(err, &ms) {
		switch ms.SQLErrorNumber() {
		case 2627, 2601, 1205: // PK/unique constraint, unique index, deadlock victim
			return true
		}
		return false
	}
	var ora *network.OracleError
	if errors.As(err, &ora) {
		switch ora.ErrCode {
		case 1, 60, 8177: // ORA-00001 unique constraint, ORA-00060 deadlock, ORA-08177 serialization
			return true
		}
		return false
	}
	var lite interface{ Code() int } // modernc.org/sqlite
	if errors.As(err, &lite) {
		switch code := lite.Code(); {
		case code == 1555 || code == 2067: // SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE
			return true
		case code == 19: // SQLITE_CONSTRAINT without extended codes
			return strings.Contains(err.Error(), "UNIQUE")
		case code&0xff == 5 || code&0xff == 6: // SQLITE_BUSY, SQLITE_LOCKED (and their extended codes)
			return true
		}
	}
	return false
}

// Check verifies that both staging tables exist with the staging layout:
// every column the sink writes or reads and the ERP job's columns, of the
// right kind (character, numeric, memo) and, where the catalog gives it,
// width, and no column besides them, the control columns and
// OptionalColumns. A table that differs is named with what differs: it may
// be another table that happens to have the same name, and the bridge
// writes nothing into it. Only the catalog is read.
var _ erp.OrderSinkChecker = (*StagingSink)(nil)

func (s *StagingSink) Check(ctx context.Context) error {
	sp := s.spec
	control := []ColumnSpec{{Name: sp.DeletedColumn, Kind: KindChar, Width: 1},
		{Name: sp.RecnoColumn, Kind: KindInt}, {Name: sp.RecDelColumn, Kind: KindInt}}
	var header, items []ColumnSpec
	for _, c := range sp.headerChars() {
		header = append(header, ColumnSpec{Name: c.Name, Kind: KindChar, Width: c.Width})
	}
	header = append(header, ColumnSpec{Name: sp.Header.Error.Name, Kind: KindMemo})
	header = append(append(header, sp.JobColumns...), control...)
	for _, c := range sp.itemChars() {
		items = append(items, ColumnSpec{Name: c.Name, Kind: KindChar, Width: c.Width})
	}
	for _, c := range sp.itemNumbers() {
		items = append(items, ColumnSpec{Name: c.Name, Kind: KindNumber})
	}
	items = append(items, control...)
	var errs []error
	for _, t := range []struct {
		name   string
		layout []ColumnSpec
	}{{sp.Header.Table, header}, {sp.Items.Table, items}} {
		cat, err := ReadCatalog(ctx, s.db, s.d, t.name)
		if err != nil {
			return fmt.Errorf("checking staging table %s: %w", t.name, err)
		}
		if len(cat) == 0 {
			errs = append(errs, fmt.Errorf("staging table %s does not exist (or the bridge's user cannot see it): create it (docs/protheus.md, staging tables)", t.name))
			continue
		}
		if diffs := layoutDiffs(cat, t.layout, sp.OptionalColumns); len(diffs) > 0 {
			errs = append(errs, fmt.Errorf("staging table %s does not match the staging layout (docs/protheus.md, staging tables), so the bridge writes nothing into it: %s",
				t.name, strings.Join(diffs, "; ")))
		}
	}
	return errors.Join(errs...)
}

// layoutDiffs compares a table's catalog with a layout: the columns it
// lacks, those of another kind or width, and those the layout does not
// have (optional ones aside).
func layoutDiffs(cat []CatalogColumn, layout []ColumnSpec, optional []string) []string {
	have := map[string]CatalogColumn{}
	for _, c := range cat {
		have[c.Name] = c
	}
	known := map[string]bool{}
	for _, o := range optional {
		known[strings.ToUpper(o)] = true
	}
	var missing, wrong, extra []string
	for _, want := range layout {
		name := strings.ToUpper(want.Name)
		known[name] = true
		c, ok := have[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		kind := catalogKind(c)
		width := want.Width
		if want.Kind == KindDate {
			width = 8 // YYYYMMDD
		}
		switch want.Kind {
		case KindChar, KindDate:
			if kind != KindChar {
				wrong = append(wrong, fmt.Sprintf("%s is %s, not a character column", name, describe(c)))
			} else if c.Width > 0 && width > 0 && c.Width != width {
				wrong = append(wrong, fmt.Sprintf("%s is %s, not %d characters wide", name, describe(c), width))
			}
		case KindNumber, KindInt:
			if kind != KindNumber {
				wrong = append(wrong, fmt.Sprintf("%s is %s, not a numeric column", name, describe(c)))
			}
		case KindMemo:
			if kind != KindMemo && (kind != KindChar || c.Width > 0) {
				wrong = append(wrong, fmt.Sprintf("%s is %s, not a memo (text or binary) column", name, describe(c)))
			}
		}
	}
	for _, c := range cat {
		if !known[c.Name] {
			extra = append(extra, c.Name)
		}
	}
	var out []string
	if len(missing) > 0 {
		out = append(out, "lacks "+strings.Join(missing, ", "))
	}
	out = append(out, wrong...)
	if len(extra) > 0 {
		out = append(out, "has columns the layout does not: "+strings.Join(extra, ", "))
	}
	return out
}

// describe spells a catalog column's type, with its width when known.
func describe(c CatalogColumn) string {
	if c.Width > 0 && !strings.Contains(c.DataType, "(") {
		return fmt.Sprintf("%s(%d)", c.DataType, c.Width)
	}
	return c.DataType
}

// catalogKind sorts a catalog type into KindChar (fixed or variable
// character, a width of 0 for VARCHAR(MAX)), KindNumber (any numeric
// type), KindMemo (text, character or binary large objects) or "" (dates,
// timestamps, anything else).
func catalogKind(c CatalogColumn) Kind {
	t := c.DataType
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch t {
	case "TEXT", "NTEXT", "CLOB", "NCLOB", "BLOB", "BYTEA", "IMAGE", "VARBINARY", "LONG", "LONG RAW", "BINARY LARGE OBJECT",
		"CHARACTER LARGE OBJECT":
		return KindMemo
	case "FLOAT", "DOUBLE", "DOUBLE PRECISION", "REAL", "NUMBER", "NUMERIC", "DECIMAL", "INT", "INTEGER", "BIGINT",
		"SMALLINT", "TINYINT", "BINARY_DOUBLE", "BINARY_FLOAT", "MONEY":
		return KindNumber
	}
	if strings.Contains(t, "CHAR") { // CHAR, VARCHAR, VARCHAR2, NVARCHAR, CHARACTER VARYING
		return KindChar
	}
	return ""
}
