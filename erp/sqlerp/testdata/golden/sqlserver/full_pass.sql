SELECT TOP (@p3) A1_FILIAL, A1_COD, A1_LOJA, A1_NOME, A1_LC, A1_DTCAD, R_E_C_N_O_, D_E_L_E_T_, S_T_A_M_P_ FROM SA1010 WHERE A1_FILIAL = @p1 AND R_E_C_N_O_ > @p2 ORDER BY R_E_C_N_O_
-- arg 1: mssql.VarChar "  "
-- arg 2: int64 1000
-- arg 3: int 500
