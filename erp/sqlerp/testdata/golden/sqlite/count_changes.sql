SELECT COUNT(*) FROM SA1010 WHERE A1_FILIAL = ? AND S_T_A_M_P_ >= ?
-- arg 1: string "  "
-- arg 2: string "2026-01-02 03:02:05.123"
