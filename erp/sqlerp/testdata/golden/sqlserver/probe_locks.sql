-- this session's waits, before and after the poll
SELECT COALESCE(SUM(waiting_tasks_count), 0), COALESCE(SUM(wait_time_ms), 0) FROM sys.dm_exec_session_wait_stats WHERE session_id = @@SPID AND wait_type LIKE 'LCK[_]%'
