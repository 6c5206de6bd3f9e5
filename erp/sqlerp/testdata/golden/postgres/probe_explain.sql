-- plan (column 0)
EXPLAIN (COSTS OFF) SELECT A1_FILIAL, A1_COD, A1_LOJA, A1_NOME, A1_LC, A1_DTCAD, R_E_C_N_O_, D_E_L_E_T_, S_T_A_M_P_ FROM SA1010 WHERE A1_FILIAL = $1 AND S_T_A_M_P_ >= $2 ORDER BY S_T_A_M_P_, R_E_C_N_O_ LIMIT $3
-- arg 1: string "  "
-- arg 2: time.Time 2026-01-02T03:02:05.123Z
-- arg 3: int 500
