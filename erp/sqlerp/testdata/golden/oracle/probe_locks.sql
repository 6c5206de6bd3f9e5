-- this session's waits, before and after the poll
SELECT NVL(SUM(total_waits), 0), NVL(ROUND(SUM(time_waited_micro) / 1000), 0) FROM v$session_event WHERE sid = SYS_CONTEXT('USERENV', 'SID') AND event LIKE 'enq:%'
