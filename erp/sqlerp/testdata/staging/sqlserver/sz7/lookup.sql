SELECT TOP (@p3) Z7_STATUS, Z7_NUMPED, Z7_ERRO FROM SZ7010 WHERE Z7_FILIAL = @p1 AND Z7_DEALID = @p2 AND D_E_L_E_T_ = ' ' ORDER BY R_E_C_N_O_ DESC
-- arg 1: mssql.VarChar "01"
-- arg 2: mssql.VarChar "65a1f0c2e4b0a1b2c3d4e5f6"
-- arg 3: int 1
