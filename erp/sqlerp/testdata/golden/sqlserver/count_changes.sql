SELECT COUNT(*) FROM SA1010 WHERE A1_FILIAL = @p1 AND S_T_A_M_P_ >= @p2
-- arg 1: mssql.VarChar "  "
-- arg 2: mssql.DateTime1 2026-01-02T03:02:05.123Z
