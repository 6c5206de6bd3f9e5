SELECT Z7_STATUS, Z7_NUMPED, Z7_ERRO FROM SZ7010 WHERE Z7_FILIAL = $1 AND Z7_DEALID = $2 AND D_E_L_E_T_ = ' ' ORDER BY R_E_C_N_O_ DESC LIMIT $3
-- arg 1: string "01"
-- arg 2: string "65a1f0c2e4b0a1b2c3d4e5f6"
-- arg 3: int 1
