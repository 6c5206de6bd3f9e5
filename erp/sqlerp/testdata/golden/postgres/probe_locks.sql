-- sessions waiting on the table now
SELECT COUNT(*), 0 FROM pg_locks WHERE relation = to_regclass($1) AND NOT granted
-- arg 1: string "sa1010"
