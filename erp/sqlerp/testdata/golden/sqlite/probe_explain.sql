-- plan (column 3)
EXPLAIN QUERY PLAN SELECT A1_FILIAL, A1_COD, A1_LOJA, A1_NOME, A1_LC, A1_DTCAD, R_E_C_N_O_, D_E_L_E_T_, S_T_A_M_P_ FROM SA1010 WHERE A1_FILIAL = ? AND S_T_A_M_P_ >= ? ORDER BY S_T_A_M_P_, R_E_C_N_O_ LIMIT ?
-- arg 1: string "  "
-- arg 2: string "2026-01-02 03:02:05.123"
-- arg 3: int 500
