SELECT COUNT(*), COUNT(*) - COUNT(S_T_A_M_P_) FROM SA1010 WHERE A1_FILIAL = @p1
-- arg 1: mssql.VarChar "  "
