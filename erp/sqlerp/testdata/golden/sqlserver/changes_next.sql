SELECT TOP (@p6) A1_FILIAL, A1_COD, A1_LOJA, A1_NOME, A1_LC, A1_DTCAD, R_E_C_N_O_, D_E_L_E_T_, S_T_A_M_P_ FROM SA1010 WHERE A1_FILIAL = @p1 AND S_T_A_M_P_ >= @p2 AND (S_T_A_M_P_ > @p3 OR (S_T_A_M_P_ = @p4 AND R_E_C_N_O_ > @p5)) ORDER BY S_T_A_M_P_, R_E_C_N_O_
-- arg 1: mssql.VarChar "  "
-- arg 2: mssql.DateTime1 2026-01-02T03:02:05.123Z
-- arg 3: mssql.DateTime1 2026-01-02T03:04:05.123Z
-- arg 4: mssql.DateTime1 2026-01-02T03:04:05.123Z
-- arg 5: int64 123
-- arg 6: int 500
