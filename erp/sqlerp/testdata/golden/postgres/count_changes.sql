SELECT COUNT(*) FROM SA1010 WHERE A1_FILIAL = $1 AND S_T_A_M_P_ >= $2
-- arg 1: string "  "
-- arg 2: time.Time 2026-01-02T03:02:05.123Z
