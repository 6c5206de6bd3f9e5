SELECT COUNT(*) FROM SA1010 WHERE A1_FILIAL = @p1 AND R_E_C_N_O_ > @p2
-- arg 1: mssql.VarChar "  "
-- arg 2: int64 1000
