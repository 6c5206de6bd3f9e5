SELECT COUNT(*) FROM SA1010 WHERE A1_FILIAL = $1 AND R_E_C_N_O_ > $2
-- arg 1: string "  "
-- arg 2: int64 1000
