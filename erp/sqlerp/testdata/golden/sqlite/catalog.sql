SELECT UPPER(name), UPPER(type), NULL FROM pragma_table_info(?) ORDER BY cid
-- arg 1: string "SA1010"
