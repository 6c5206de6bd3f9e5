package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/fixture"
)

// sa1 is the customers table of the fixture's company.
var sa1 = protheus.TableName("SA1", fixture.Company)

// sqlArray renders a Go string list as a PostgreSQL text[] literal.
func sqlArray(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return "ARRAY[" + strings.Join(q, ",") + "]"
}

// fillStatement returns the set-based INSERT that writes n SA1 rows shaped
// like the fixture's: blank-padded CHARs, YYYYMMDD dates, float noise in
// A1_LC, one row in 25 blocked, unique (A1_COD, A1_LOJA) — 10 lojas per code
// so a million rows fit the 6-digit A1_COD — and one-second stamps starting
// at fixture.BaseStamp (a million rows span about 11.5 days).
func fillStatement(n int) string {
	w := func(field string) int {
		f, ok := protheus.Lookup("SA1", field)
		if !ok {
			panic("unknown SA1 field " + field) // a programming error in this file
		}
		return f.Size
	}
	pad := func(expr, field string) string {
		return fmt.Sprintf("rpad(left(%s, %d), %d)", expr, w(field), w(field))
	}
	nameA := sqlArray([]string{"ACME", "BRASIL", "NORTE", "SUL", "PAULISTA", "MINEIRA", "CENTRAL", "NOVA ERA", "ALFA", "OMEGA", "ATLANTICO", "SERRA"})
	nameB := sqlArray([]string{"COMERCIO DE ALIMENTOS", "INDUSTRIA METALURGICA", "DISTRIBUIDORA", "TRANSPORTES", "CONSTRUTORA", "AGROPECUARIA", "TECNOLOGIA", "FARMACIA"})
	mun := sqlArray([]string{"SAO PAULO", "CAMPINAS", "BELO HORIZONTE", "CURITIBA", "PORTO ALEGRE", "RECIFE"})
	codMun := sqlArray([]string{"50308", "09502", "06200", "06902", "14902", "11606"})
	est := sqlArray([]string{"SP", "SP", "MG", "PR", "RS", "PE"})
	cep := sqlArray([]string{"01310100", "13010000", "30130000", "80010000", "90010000", "50010000"})
	ddd := sqlArray([]string{"11", "19", "31", "41", "51", "81"})
	first := sqlArray([]string{"ANA", "BRUNO", "CARLA", "DIEGO", "ELISA", "FABIO", "GABRIELA", "HUGO", "ISABEL", "JOAO"})
	last := sqlArray([]string{"SILVA", "SOUZA", "OLIVEIRA", "PEREIRA", "COSTA", "ALMEIDA", "LIMA"})
	base := fixture.BaseStamp.Format("2006-01-02 15:04:05")
	name := fmt.Sprintf("(%s)[1 + g %% 12] || ' ' || (%s)[1 + (g / 12) %% 8] || ' ' || g", nameA, nameB)
	city := "(1 + g % 6)"
	cols := []struct{ col, expr string }{
		{"A1_FILIAL", "'" + fixture.SharedFilial + "'"},
		{"A1_COD", "lpad(((g - 1) / 10 + 1)::text, 6, '0')"},
		{"A1_LOJA", "lpad(((g - 1) % 10 + 1)::text, 2, '0')"},
		{"A1_NOME", pad(name, "A1_NOME")},
		{"A1_NREDUZ", pad(fmt.Sprintf("(%s)[1 + g %% 12] || ' ' || g", nameA), "A1_NREDUZ")},
		{"A1_PESSOA", "'J'"},
		{"A1_TIPO", "'R'"},
		{"A1_CGC", "lpad((11000000000000 + g::bigint * 7919)::text, 14, '0')"},
		{"A1_INSCR", pad("'ISENTO'", "A1_INSCR")},
		{"A1_END", pad("'RUA ' || (1 + g % 28) || ' DE MAIO, ' || (10 * g)", "A1_END")},
		{"A1_COMPLEM", pad("''", "A1_COMPLEM")},
		{"A1_BAIRRO", pad("'CENTRO'", "A1_BAIRRO")},
		{"A1_COD_MUN", fmt.Sprintf("(%s)[%s]", codMun, city)},
		{"A1_MUN", pad(fmt.Sprintf("(%s)[%s]", mun, city), "A1_MUN")},
		{"A1_EST", fmt.Sprintf("(%s)[%s]", est, city)},
		{"A1_CEP", fmt.Sprintf("(%s)[%s]", cep, city)},
		{"A1_DDD", pad(fmt.Sprintf("(%s)[%s]", ddd, city), "A1_DDD")},
		{"A1_TEL", pad("'3' || lpad((g % 1000)::text, 3, '0') || lpad((g % 10000)::text, 4, '0')", "A1_TEL")},
		{"A1_EMAIL", pad("'cli' || lpad(g::text, 7, '0') || '@exemplo.com.br'", "A1_EMAIL")},
		{"A1_CONTATO", pad(fmt.Sprintf("(%s)[1 + g %% 10] || ' ' || (%s)[1 + g %% 7]", first, last), "A1_CONTATO")},
		{"A1_VEND", "lpad((1 + g % 5)::text, 6, '0')"},
		{"A1_COND", "'001'"},
		{"A1_TABELA", "'" + fixture.PriceTable + "'"},
		{"A1_LC", "(g * 1000)::float8 + 0.1::float8 + 0.2::float8"},
		{"A1_ULTCOM", fmt.Sprintf("CASE WHEN g %% 4 = 0 THEN to_char(date '%s' - (g / 4 %% 3000), 'YYYYMMDD') ELSE '        ' END", base[:10])},
		{"A1_DTCAD", fmt.Sprintf("to_char(date '%s' - (g %% 5000), 'YYYYMMDD')", base[:10])},
		{"A1_HRCAD", "'08:30'"},
		{"A1_MSBLQL", "CASE WHEN g % 25 = 0 THEN '1' ELSE '2' END"},
		{"D_E_L_E_T_", "' '"},
		{"R_E_C_N_O_", "g"},
		{"R_E_C_D_E_L_", "0"},
		{"S_T_A_M_P_", fmt.Sprintf("timestamp '%s' + g * interval '1 second'", base)},
		{"I_N_S_D_T_", fmt.Sprintf("timestamp '%s' + g * interval '1 second'", base)},
	}
	names := make([]string, len(cols))
	exprs := make([]string, len(cols))
	for i, c := range cols {
		names[i], exprs[i] = c.col, c.expr
	}
	return "INSERT INTO " + sa1 + " (" + strings.Join(names, ", ") + ")\nSELECT " +
		strings.Join(exprs, ",\n  ") + fmt.Sprintf("\nFROM generate_series(1, %d) AS g", n)
}

// fill replaces SA1's rows with n generated ones and refreshes statistics.
// The other fixture tables keep their few rows; only SA1 is measured.
func fill(ctx context.Context, db *sql.DB, n int) error {
	for _, q := range []string{"TRUNCATE " + sa1, fillStatement(n), "ANALYZE " + sa1} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("filling %s: %w", sa1, err)
		}
	}
	return nil
}

// blocked is how many of n generated rows are blocked (skipped by the sync).
func blocked(n int) int { return n / 25 }

// changeRows renames count live, unblocked customers spread over the table
// (their stamps move through the table's trigger) and returns how many rows
// changed.
func changeRows(ctx context.Context, db *sql.DB, n, count int) (int64, error) {
	step := max(n/count, 1)
	q := "UPDATE " + sa1 + " SET A1_NOME = rpad('RENOMEADA ' || R_E_C_N_O_, 40) " +
		"WHERE R_E_C_N_O_ IN (SELECT R_E_C_N_O_ FROM " + sa1 +
		" WHERE A1_MSBLQL <> '1' AND D_E_L_E_T_ = ' ' AND (R_E_C_N_O_ - 1) % $1 = 0 ORDER BY R_E_C_N_O_ LIMIT $2)"
	res, err := db.ExecContext(ctx, q, step, count)
	if err != nil {
		return 0, fmt.Errorf("changing %d customers: %w", count, err)
	}
	return res.RowsAffected()
}
