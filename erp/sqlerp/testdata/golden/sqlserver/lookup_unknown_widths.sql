SELECT TOP (@p4) A1_FILIAL, A1_COD, A1_LOJA, A1_NOME, A1_LC, A1_DTCAD, R_E_C_N_O_, D_E_L_E_T_, S_T_A_M_P_ FROM SA1010 WHERE A1_FILIAL = @p1 AND A1_COD = @p2 AND A1_LOJA = @p3 ORDER BY CASE WHEN D_E_L_E_T_ = '*' THEN 1 ELSE 0 END, R_E_C_N_O_ DESC
-- arg 1: mssql.VarChar ""
-- arg 2: mssql.VarChar "000001"
-- arg 3: mssql.VarChar "01"
-- arg 4: int 1
