SELECT UPPER(i.name), UPPER(c.name), ic.key_ordinal FROM sys.indexes i JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id WHERE i.object_id = OBJECT_ID(@p1) AND ic.key_ordinal > 0 AND i.name IS NOT NULL ORDER BY 1, 3
-- arg 1: string "SA1010"
