SELECT CASE WHEN COALESCE(last_analyze, last_autoanalyze) IS NULL THEN 0 ELSE 1 END FROM pg_stat_user_tables WHERE relname = $1 AND schemaname = current_schema()
-- arg 1: string "sa1010"
