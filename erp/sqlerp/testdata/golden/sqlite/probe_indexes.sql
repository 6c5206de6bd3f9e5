SELECT UPPER(il.name), UPPER(ii.name), ii.seqno + 1 FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii ORDER BY 1, 3
-- arg 1: string "SA1010"
