SELECT UPPER(i.relname), UPPER(a.attname), k.n FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum WHERE t.relname = $1 AND t.relnamespace = to_regnamespace(current_schema()) ORDER BY 1, 3
-- arg 1: string "sa1010"
