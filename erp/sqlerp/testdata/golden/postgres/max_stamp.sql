SELECT MAX(S_T_A_M_P_) FROM SA1010 WHERE A1_FILIAL = $1
-- arg 1: string "  "
