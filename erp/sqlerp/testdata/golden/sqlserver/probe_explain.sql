-- before
SET SHOWPLAN_TEXT ON
-- plan (column 0)
SELECT TOP (@p3) A1_FILIAL, A1_COD, A1_LOJA, A1_NOME, A1_LC, A1_DTCAD, R_E_C_N_O_, D_E_L_E_T_, S_T_A_M_P_ FROM SA1010 WHERE A1_FILIAL = @p1 AND S_T_A_M_P_ >= @p2 ORDER BY S_T_A_M_P_, R_E_C_N_O_
-- after
SET SHOWPLAN_TEXT OFF
-- arg 1: mssql.VarChar "  "
-- arg 2: mssql.DateTime1 2026-01-02T03:02:05.123Z
-- arg 3: int 500
