SELECT TOP (@p4) DA1_CODTAB, DA1_CODPRO, DA1_PRCVEN, DA1_DATVIG, DA1_FILIAL, DA1_INDLOT, DA1_ITEM, R_E_C_N_O_, D_E_L_E_T_, S_T_A_M_P_ FROM DA1010 WHERE DA1_FILIAL = @p1 AND DA1_CODTAB = @p2 AND DA1_CODPRO = @p3 ORDER BY R_E_C_N_O_
-- arg 1: mssql.VarChar ""
-- arg 2: mssql.VarChar "001"
-- arg 3: mssql.VarChar "PA0001         "
-- arg 4: int 10
