SELECT AC8_FILIAL, AC8_ENTIDA, AC8_FILENT, AC8_CODENT, AC8_CODCON, R_E_C_N_O_, D_E_L_E_T_, S_T_A_M_P_ FROM AC8010 WHERE AC8_FILIAL = $1 AND AC8_ENTIDA = $2 AND AC8_FILENT = $3 AND AC8_CODENT = $4 ORDER BY R_E_C_N_O_ LIMIT $5
-- arg 1: string "01"
-- arg 2: string "SA1"
-- arg 3: string "  "
-- arg 4: string "00000101                 "
-- arg 5: int 100
