SELECT AC8_FILIAL, AC8_ENTIDA, AC8_FILENT, AC8_CODENT, AC8_CODCON, R_E_C_N_O_, D_E_L_E_T_, S_T_A_M_P_ FROM AC8010 WHERE AC8_FILIAL = ? AND (AC8_CODCON = ? OR AC8_CODCON = ? OR AC8_CODCON = ?) ORDER BY R_E_C_N_O_ LIMIT ?
-- arg 1: string "01"
-- arg 2: string "000001"
-- arg 3: string "000002"
-- arg 4: string "000003"
-- arg 5: int 300
