package sqlerp

import (
	"errors"
	"fmt"
	"strings"
)

// StagingColumn is one column of a staging table. Character values are
// written blank-padded to Width, never empty (Oracle stores an empty string as NULL);
// numeric values are rounded to Decimals and must fit Width digits in all
// (Protheus N 9,2: Width 9, Decimals 2, so at most 999999.99; Width 0: any
// size).
type StagingColumn struct {
	Name     string
	Width    int
	Decimals int
}

// StagingHeader describes the header table: one row per deal, unique on
// (Filial, DealID) among live rows.
type StagingHeader struct {
	// Table is the physical table, e.g. ZB1010.
	Table string
	// Columns the sink writes (character, Width > 0).
	Filial, DealID, OrderType, Customer, Store, Seller, PaymentTerms, PriceTable, Message StagingColumn
	// Status holds a StagingStatuses code; the sink writes Waiting, the
	// ERP job the others.
	Status StagingColumn
	// OrderNumber is written blank by the sink and filled by the ERP job
	// when the order exists.
	OrderNumber StagingColumn
	// Error is the ERP job's rejection text, a memo: text or bytes, read as
	// text, never written by the sink (Width is ignored).
	Error StagingColumn
	// CreatedDate (YYYYMMDD) and CreatedTime (HH:MM:SS) are when the row
	// was staged, in UTC.
	CreatedDate, CreatedTime StagingColumn
}

// StagingItems describes the items table: one row per order item, unique
// on (Filial, DealID, Item) among live rows.
type StagingItems struct {
	// Table is the physical table, e.g. ZB2010.
	Table string
	// Character columns (Width > 0); Item holds StagingSpec.ItemCode(n).
	Filial, DealID, Item, Product, TES, Operation StagingColumn
	// Numeric columns: Value is Quantity × UnitPrice rounded to its
	// Decimals; ListPrice carries the unit price too.
	Quantity, UnitPrice, ListPrice, Value StagingColumn
}

// StagingStatuses are the header's status codes.
type StagingStatuses struct {
	// Waiting is what the sink writes; Processing a row the ERP job has
	// claimed; Done an order created (OrderNumber set); Error a rejection
	// (Error set).
	Waiting, Processing, Done, Error string
}

// StagingSpec describes a pair of order staging tables (a header and its
// items) that a StagingSink writes won deals into and an ERP job turns into
// sales orders. Every name must pass ValidateIdent; names are written in
// upper case.
type StagingSpec struct {
	Header StagingHeader
	Items  StagingItems
	// Filial is the branch value of both tables' filial columns (padded).
	Filial string
	// Statuses are the header's status codes.
	Statuses StagingStatuses
	// ItemCode returns the Item code of the n-th item (1-based), e.g.
	// "01", "02" …; an error refuses an order with that many items.
	ItemCode func(n int) (string, error)
	// RecnoColumn is the record number (primary key, numbered MAX+1 by the
	// sink); DeletedColumn the soft-delete flag (' ' live); RecDelColumn
	// part of the unique keys (0 live). All three are required.
	RecnoColumn, DeletedColumn, RecDelColumn string
	// JobColumns are header columns only the ERP job writes (attempts,
	// when processed): the sink never touches them, but a table without
	// them is not a staging table (StagingSink.Check).
	JobColumns []ColumnSpec
	// OptionalColumns may exist in either table besides the layout (change
	// stamps); StagingSink.Check refuses any other column.
	OptionalColumns []string
}

// headerChars lists the header's character columns the sink writes.
func (s StagingSpec) headerChars() []StagingColumn {
	h := s.Header
	return []StagingColumn{h.Filial, h.DealID, h.OrderType, h.Customer, h.Store, h.Seller, h.PaymentTerms,
		h.PriceTable, h.Message, h.Status, h.OrderNumber, h.CreatedDate, h.CreatedTime}
}

// itemChars lists the items' character columns.
func (s StagingSpec) itemChars() []StagingColumn {
	i := s.Items
	return []StagingColumn{i.Filial, i.DealID, i.Item, i.Product, i.TES, i.Operation}
}

// itemNumbers lists the items' numeric columns.
func (s StagingSpec) itemNumbers() []StagingColumn {
	i := s.Items
	return []StagingColumn{i.Quantity, i.UnitPrice, i.ListPrice, i.Value}
}

// Validate checks every identifier, width and status code, without I/O.
func (s StagingSpec) Validate() error {
	var errs []error
	check := func(what, name string) {
		if err := ValidateIdent(name); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	check("header table", s.Header.Table)
	check("items table", s.Items.Table)
	check("recno column", s.RecnoColumn)
	check("deleted column", s.DeletedColumn)
	check("recdel column", s.RecDelColumn)
	for _, t := range []struct {
		table string
		cols  []StagingColumn
	}{{"header", s.headerChars()}, {"items", s.itemChars()}} {
		for _, c := range t.cols {
			check(t.table+" column", c.Name)
			if c.Width <= 0 {
				errs = append(errs, fmt.Errorf("%s column %s: character columns need a width", t.table, strings.ToUpper(c.Name)))
			}
		}
	}
	check("header error column", s.Header.Error.Name)
	for _, c := range s.JobColumns {
		check("header job column", c.Name)
	}
	for _, c := range s.OptionalColumns {
		check("optional column", c)
	}
	for _, c := range s.itemNumbers() {
		check("items column", c.Name)
		if c.Width < 0 || c.Decimals < 0 || (c.Width > 0 && c.Decimals >= c.Width) {
			errs = append(errs, fmt.Errorf("items column %s: bad size %d,%d", strings.ToUpper(c.Name), c.Width, c.Decimals))
		}
	}
	if w := s.Header.CreatedDate.Width; w > 0 && w < len("20060102") {
		errs = append(errs, fmt.Errorf("header column %s: a YYYYMMDD date needs width 8", strings.ToUpper(s.Header.CreatedDate.Name)))
	}
	if w := s.Header.CreatedTime.Width; w > 0 && w < len("15:04:05") {
		errs = append(errs, fmt.Errorf("header column %s: an HH:MM:SS time needs width 8", strings.ToUpper(s.Header.CreatedTime.Name)))
	}
	if n := len([]rune(s.Filial)); n > s.Header.Filial.Width || n > s.Items.Filial.Width {
		errs = append(errs, fmt.Errorf("filial %q is wider than its columns", s.Filial))
	}
	seen := map[string]bool{}
	st := s.Statuses
	for _, code := range []string{st.Waiting, st.Processing, st.Done, st.Error} {
		c := trimBlanks(code)
		switch {
		case c == "":
			errs = append(errs, errors.New("status codes: every code must be set"))
		case seen[c]:
			errs = append(errs, fmt.Errorf("status code %q used twice", c))
		case len([]rune(c)) > s.Header.Status.Width:
			errs = append(errs, fmt.Errorf("status code %q is wider than %d", c, s.Header.Status.Width))
		}
		seen[c] = true
	}
	if s.ItemCode == nil {
		errs = append(errs, errors.New("no item code function"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("validating staging spec %s/%s: %w", s.Header.Table, s.Items.Table, err)
	}
	return nil
}
