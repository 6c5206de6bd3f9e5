package dictionary

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/mapping"
)

// Query is one read of the dictionary: its SQL and arguments.
type Query struct {
	SQL  string
	Args []any
}

// Queries are the three reads of Read, in the dialect's SQL: SX2, SX3 and
// SIX of the company, restricted to the given aliases (all when none).
// Only live rows (D_E_L_E_T_ other than '*') are read.
func Queries(d sqlerp.Dialect, company string, aliases []string) (sx2, sx3, six Query, err error) {
	build := func(table, aliasCol, order string, cols []string) (Query, error) {
		name, err := d.QuoteIdent(protheus.TableName(table, company))
		if err != nil {
			return Query{}, fmt.Errorf("naming %s: %w", table, err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "SELECT %s FROM %s WHERE D_E_L_E_T_ <> '*'", strings.Join(cols, ", "), name)
		var args []any
		if len(aliases) > 0 {
			marks := make([]string, len(aliases))
			for i, a := range aliases {
				marks[i] = d.Placeholder(i + 1)
				args = append(args, strings.ToUpper(a))
			}
			fmt.Fprintf(&b, " AND %s IN (%s)", aliasCol, strings.Join(marks, ", "))
		}
		fmt.Fprintf(&b, " ORDER BY %s, %s", aliasCol, order)
		return Query{SQL: b.String(), Args: args}, nil
	}
	if sx2, err = build("SX2", "X2_CHAVE", "X2_ARQUIVO",
		[]string{"X2_CHAVE", "X2_ARQUIVO", "X2_NOME", "X2_MODO", "X2_MODOUN", "X2_MODOEMP", "X2_UNICO"}); err != nil {
		return
	}
	if sx3, err = build("SX3", "X3_ARQUIVO", "X3_ORDEM",
		[]string{"X3_ARQUIVO", "X3_ORDEM", "X3_CAMPO", "X3_TIPO", "X3_TAMANHO", "X3_DECIMAL", "X3_TITULO",
			"X3_DESCRIC", "X3_CBOX", "X3_CONTEXT", "X3_PROPRI", "X3_OBRIGAT"}); err != nil {
		return
	}
	six, err = build("SIX", "INDICE", "ORDEM", []string{"INDICE", "ORDEM", "CHAVE", "DESCRICAO"})
	return
}

// Read reads the dictionary of a company's tables (all tables when no
// alias is given). A database without the dictionary tables, or whose
// user may not read them, gives ErrNoDictionary (wrapped with the
// database's own words); SIX is optional (an empty index list).
func Read(ctx context.Context, db *sql.DB, d sqlerp.Dialect, company string, aliases ...string) (*Dictionary, error) {
	q2, q3, q6, err := Queries(d, company, aliases)
	if err != nil {
		return nil, err
	}
	dict := &Dictionary{Company: company, Tables: map[string]Table{}, Fields: map[string][]Field{}, Indexes: map[string][]Index{}}
	if err := each(ctx, db, q2, 7, func(v []any) {
		t := Table{Alias: text(v[0]), Physical: text(v[1]), Name: text(v[2]),
			Branch: sharing(v[3]), Unit: sharing(v[4]), Company: sharing(v[5]), Unique: text(v[6])}
		dict.Tables[t.Alias] = t
	}); err != nil {
		return nil, fmt.Errorf("reading SX2: %w: %w", ErrNoDictionary, err)
	}
	if err := each(ctx, db, q3, 12, func(v []any) {
		f := Field{Table: text(v[0]), Order: text(v[1]), Name: strings.ToUpper(text(v[2])),
			Type: protheus.Type(first(text(v[3]), 'C')), Size: number(v[4]), Decimals: number(v[5]),
			Title: text(v[6]), Description: text(v[7]), Combo: text(v[8]),
			Virtual: strings.EqualFold(text(v[9]), "V"), User: strings.EqualFold(text(v[10]), "U"),
			Required: text(v[11]) != ""}
		f.Options, f.ComboErr = ParseCombo(f.Combo)
		dict.Fields[f.Table] = append(dict.Fields[f.Table], f)
	}); err != nil {
		return nil, fmt.Errorf("reading SX3: %w: %w", ErrNoDictionary, err)
	}
	if err := each(ctx, db, q6, 4, func(v []any) {
		i := Index{Table: text(v[0]), Order: text(v[1]), Key: text(v[2]), Description: text(v[3])}
		dict.Indexes[i.Table] = append(dict.Indexes[i.Table], i)
	}); err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("reading SIX: %w", err)
	}
	if len(dict.Tables) == 0 && len(dict.Fields) == 0 {
		return nil, fmt.Errorf("reading the dictionary of company %s: %w: SX2 and SX3 hold no row for %s",
			company, ErrNoDictionary, orAll(aliases))
	}
	for a := range dict.Fields {
		fs := dict.Fields[a]
		sort.SliceStable(fs, func(i, j int) bool { return fs[i].Order < fs[j].Order })
	}
	return dict, nil
}

func orAll(aliases []string) string {
	if len(aliases) == 0 {
		return "any table"
	}
	return strings.Join(aliases, ", ")
}

// each runs q and calls fn with every row's n values.
func each(ctx context.Context, db *sql.DB, q Query, n int, fn func([]any)) error {
	rows, err := db.QueryContext(ctx, q.SQL, q.Args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		fn(vals)
	}
	return rows.Err()
}

// text is a CHAR value without its padding. Bytes that are not UTF-8
// (Windows-1252 dictionaries) are read as Windows-1252.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(utf8Text(x))
	case []byte:
		return strings.TrimSpace(utf8Text(string(x)))
	}
	return strings.TrimSpace(fmt.Sprint(v))
}

func utf8Text(s string) string {
	out, _ := mapping.EnsureUTF8(s)
	return out
}

func number(v any) int {
	switch x := v.(type) {
	case int64:
		return int(x)
	case float64:
		return int(math.Round(x))
	case float32:
		return int(math.Round(float64(x)))
	}
	var f float64
	if _, err := fmt.Sscan(text(v), &f); err == nil {
		return int(math.Round(f))
	}
	return 0
}

func sharing(v any) Sharing {
	return Sharing(first(strings.ToUpper(text(v)), '?'))
}

func first(s string, def byte) byte {
	if s == "" {
		return def
	}
	return s[0]
}
