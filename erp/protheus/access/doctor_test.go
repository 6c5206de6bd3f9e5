package access

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// verdict is a finding's verdict as the doctor prints it.
func verdict(f component.Finding) string {
	switch {
	case f.Problem:
		return "FAIL"
	case f.Warn:
		return "WARN"
	case f.Detail:
		return "detail"
	}
	return "ok"
}

// TestServerVerdicts judges what the servers without a test server here
// (SQL Server, Oracle) answer, as their documentation gives it.
func TestServerVerdicts(t *testing.T) {
	settings := func(kv ...string) []sqlerp.Setting {
		var out []sqlerp.Setting
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, sqlerp.Setting{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		finding component.Finding
		verdict string
		text    []string
	}{
		{"sqlserver binary collation", textComparison("sqlserver", sqlerp.ServerFacts{BlankEqual: true, AssumesBlankEqual: true,
			Settings: settings("version", "Microsoft SQL Server 2019", "collation", "Latin1_General_BIN")}),
			"ok", []string{"trailing blanks ignored", "case seen, collation Latin1_General_BIN"}},
		{"sqlserver case-insensitive collation", textComparison("sqlserver", sqlerp.ServerFacts{BlankEqual: true, AssumesBlankEqual: true, CaseEqual: true,
			Settings: settings("collation", "SQL_Latin1_General_CP1_CI_AS")}),
			"WARN", []string{"case ignored ('A' = 'a'), collation SQL_Latin1_General_CP1_CI_AS", "Latin1_General_BIN"}},
		{"blanks unlike the dialect", textComparison("postgres", sqlerp.ServerFacts{BlankEqual: true}),
			"FAIL", []string{"unlike what erpbridge assumes of postgres", "erp.driver"}},
		{"oracle binary", oracleNLS(sqlerp.ServerFacts{Settings: settings("session NLS_COMP", "BINARY", "session NLS_SORT", "BINARY")}),
			"ok", []string{"NLS_COMP BINARY, NLS_SORT BINARY"}},
		{"oracle linguistic", oracleNLS(sqlerp.ServerFacts{Settings: settings("session NLS_COMP", "LINGUISTIC", "session NLS_SORT", "BINARY_CI")}),
			"WARN", []string{"NLS_COMP LINGUISTIC, NLS_SORT BINARY_CI", "ALTER SESSION SET NLS_COMP = BINARY"}},
		{"clock in step", clockSkew(sqlerp.ServerFacts{Skew: 40 * time.Millisecond, RoundTrip: 2 * time.Millisecond}, 2*time.Minute),
			"ok", []string{"the database's is 40ms ahead of this machine's"}},
		{"clock a minute behind", clockSkew(sqlerp.ServerFacts{Skew: -time.Minute}, 2*time.Minute),
			"WARN", []string{"1m0s behind", "NTP"}},
		{"clock beyond the overlap", clockSkew(sqlerp.ServerFacts{Skew: 3 * time.Minute}, 2*time.Minute),
			"FAIL", []string{"more than erp.overlap (2m0s)"}},
		{"sqlserver lock waits without row versions", lockFinding("sqlserver", "SA1010",
			sqlerp.LockFacts{Exposed: true, Cumulative: true, Waits: 3, Waited: 1500 * time.Millisecond},
			sqlerp.ServerFacts{Settings: settings("read_committed_snapshot", "0")}),
			"WARN", []string{"waited 1.5s for locks (3 waits)", "READ_COMMITTED_SNAPSHOT ON"}},
		{"sqlserver no lock waits", lockFinding("sqlserver", "SA1010", sqlerp.LockFacts{Exposed: true, Cumulative: true}, sqlerp.ServerFacts{}),
			"ok", []string{"no lock waits while the poll read"}},
		{"oracle lock waits not granted", lockFinding("oracle", "SA1010", sqlerp.LockFacts{Cumulative: true, Err: errors.New("ORA-00942: table or view does not exist")}, sqlerp.ServerFacts{}),
			"detail", []string{"not shown to this user (ORA-00942"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := verdict(tc.finding); got != tc.verdict {
				t.Errorf("verdict %s, want %s: %s", got, tc.verdict, tc.finding)
			}
			for _, w := range tc.text {
				if !strings.Contains(tc.finding.String(), w) {
					t.Errorf("%q lacks %q", tc.finding.String(), w)
				}
			}
			if (tc.verdict == "WARN" || tc.verdict == "FAIL") && tc.finding.Fix == "" {
				t.Errorf("a %s without its fix: %s", tc.verdict, tc.finding)
			}
		})
	}
}

// TestStampIndexVerdicts: a missing index is a doctor's FAIL and check's
// WARN, with the CREATE INDEX of the table's database; an unused index on
// a large table, or without statistics, a WARN with the statistics to
// gather; on a small table with statistics, fine.
func TestStampIndexVerdicts(t *testing.T) {
	stamp := sqlerp.Index{Name: "ERPBRIDGE_SA1010_STAMP", Columns: []string{"S_T_A_M_P_", "R_E_C_N_O_"}}
	scan := sqlerp.PlanAccess{Scan: "Clustered Index Scan SA1010.SA1010_PK"}
	for _, tc := range []struct {
		name    string
		f       sqlerp.StampIndexFacts
		rows    int64
		doctor  bool
		verdict string
		text    string
	}{
		{"sought", sqlerp.StampIndexFacts{Serving: []sqlerp.Index{stamp}, Access: sqlerp.PlanAccess{Scan: "Index Seek SA1010.ERPBRIDGE_SA1010_STAMP", Index: stamp.Name, StampSeek: true}},
			100000, true, "ok", "seeks S_T_A_M_P_ in index ERPBRIDGE_SA1010_STAMP"},
		{"missing, doctor", sqlerp.StampIndexFacts{Access: scan}, 100000, true, "FAIL", "fix: CREATE INDEX ERPBRIDGE_SA1010_STAMP ON dbo.SA1010 (S_T_A_M_P_, R_E_C_N_O_)"},
		{"missing, check", sqlerp.StampIndexFacts{Access: scan}, -1, false, "WARN", "its plan reads Clustered Index Scan SA1010.SA1010_PK, so every poll reads the whole table"},
		{"stamp not first", sqlerp.StampIndexFacts{Indexes: []sqlerp.Index{{Name: "SA1010X", Columns: []string{"A1_COD", "S_T_A_M_P_"}}}, Access: scan},
			100000, true, "FAIL", "(SA1010X (A1_COD, S_T_A_M_P_) has S_T_A_M_P_, not as its first column)"},
		{"unused on a large table", sqlerp.StampIndexFacts{Serving: []sqlerp.Index{stamp}, Access: scan, Stats: true, Analyze: "UPDATE STATISTICS SA1010 WITH FULLSCAN"},
			100000, true, "WARN", "fix: gather the planner's statistics (UPDATE STATISTICS SA1010 WITH FULLSCAN)"},
		{"unused, small, analysed", sqlerp.StampIndexFacts{Serving: []sqlerp.Index{stamp}, Access: scan, Stats: true},
			500, true, "ok", "with 500 rows the planner reads it whole"},
		{"unused, small, no statistics", sqlerp.StampIndexFacts{Serving: []sqlerp.Index{stamp}, Access: scan, StatsKnown: true},
			500, true, "WARN", "the planner has no statistics of the table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := stampIndexFinding("sqlserver", "SA1010", tc.f, tc.rows, tc.doctor)
			if got := verdict(f); got != tc.verdict || !strings.Contains(f.String(), tc.text) {
				t.Errorf("%s %q, want %s with %q", got, f.String(), tc.verdict, tc.text)
			}
		})
	}
}
