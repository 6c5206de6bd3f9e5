SELECT TOP (@p5) AC8_FILIAL, AC8_ENTIDA, AC8_FILENT, AC8_CODENT, AC8_CODCON, R_E_C_N_O_, D_E_L_E_T_, S_T_A_M_P_ FROM AC8010 WHERE AC8_FILIAL = @p1 AND (AC8_CODCON = @p2 OR AC8_CODCON = @p3 OR AC8_CODCON = @p4) ORDER BY R_E_C_N_O_
-- arg 1: mssql.VarChar "01"
-- arg 2: mssql.VarChar "000001"
-- arg 3: mssql.VarChar "000002"
-- arg 4: mssql.VarChar "000003"
-- arg 5: int 300
