SELECT 'version', 'SQLite ' || sqlite_version() UNION ALL SELECT 'encoding', encoding FROM pragma_encoding UNION ALL SELECT 'journal_mode', journal_mode FROM pragma_journal_mode
