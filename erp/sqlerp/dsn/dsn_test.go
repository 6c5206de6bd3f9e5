package dsn

import (
	"strings"
	"testing"
)

// TestRedact masks the password of each DSN shape and keeps the rest.
func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://erp:s3cret@db:5432/p?sslmode=require", "postgres://erp:xxxxx@db:5432/p?sslmode=require"},
		{"postgres://erp@db/p?password=s3cret&sslmode=disable", "postgres://erp@db/p?password=xxxxx&sslmode=disable"},
		{"postgres://db/p?sslmode=disable", "postgres://db/p?sslmode=disable"},
		{"sqlserver://erp:pa#ss@db:1433?database=P", "sqlserver://erp:xxxxx@db:1433?database=P"},
		{"sqlserver://erp:p@ss/w?rd@db:1433?database=P", "sqlserver://erp:xxxxx@db:1433?database=P"},
		{"oracle://erp:p%40ss@db:1521/ORCL?wallet%20password=w1&ssl=true", "oracle://erp:xxxxx@db:1521/ORCL?wallet%20password=xxxxx&ssl=true"},
		{`server=db;user id=erp;password="a;b""c";database=P`, "server=db;user id=erp;password=xxxxx;database=P"},
		{"server=db;user id=erp;Password=abc;database=P", "server=db;user id=erp;Password=xxxxx;database=P"},
		{"odbc:server=db;pwd={a;b}}c};database=P", "odbc:server=db;pwd=xxxxx;database=P"},
		{`host=db user=erp password='a b\'c' dbname=p`, "host=db user=erp password=xxxxx dbname=p"},
		{"host=db user=erp password=abc dbname=p sslpassword=def", "host=db user=erp password=xxxxx dbname=p sslpassword=xxxxx"},
		{"host=db password='unclosed dbname=p", "host=db password=xxxxx"},
		{"host = db password = abc dbname = p", "host = db password = xxxxx dbname = p"},
		{"C:\\erp\\erp.db", "C:\\erp\\erp.db"},
		{"https://user:tok@crm.example/api", "https://user:xxxxx@crm.example/api"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestCheckAcceptsWhatDriversRead: well-formed DSNs of every shape pass.
func TestCheckAcceptsWhatDriversRead(t *testing.T) {
	for _, tc := range []struct{ driver, dsn string }{
		{"postgres", "postgres://erp:p%23ss@db:5432/protheus?sslmode=require"},
		{"postgres", "postgresql://erp@db/protheus?application_name=me@host"},
		{"postgres", "postgres:///protheus?host=/var/run/postgresql"},
		{"postgres", "host=db port=5432 user=erp password='a b' dbname=protheus"},
		{"postgres", "host = db port= 5432 user =erp password = 'a b' dbname=protheus"},
		{"sqlserver", "sqlserver://erp:p%23ss@db:1433?database=PROTHEUS"},
		{"sqlserver", "sqlserver://db:1433?database=PROTHEUS&user+id=erp@corp.example&fedauth=ActiveDirectoryPassword"},
		{"sqlserver", "sqlserver://erp:p@ss@db/SQLEXPRESS?database=PROTHEUS"},
		{"sqlserver", `server=db\SQLEXPRESS;user id=erp;password="a;b""c";database=PROTHEUS`},
		{"sqlserver", "odbc:server=db;user id=erp;password={a;b}}c};database=PROTHEUS"},
		{"oracle", "oracle://erp:p%2Fss@db:1521/PROTHEUS"},
		{"sqlite", "demo-data/erp.db"},
		{"sqlite", "file:erp.db?_pragma=busy_timeout(5000)"},
	} {
		if err := Check(tc.driver, tc.dsn); err != nil {
			t.Errorf("Check(%s, %q) = %v, want nil", tc.driver, tc.dsn, err)
		}
	}
	if err := Check("postgres", "sqlserver://erp@db"); err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Errorf("a sqlserver URL for postgres: %v, want an error naming postgres://", err)
	}
}

// FuzzDSN: Check, Redact and RedactError never panic on any text.
func FuzzDSN(f *testing.F) {
	for _, s := range []string{"postgres://u:p@h/db?password=x", `server=h;password="a;b""c`, "odbc:pwd={a}}", "host=h password='a\\'", "u/p@h", "x://@@::%%##"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, d := range []string{"postgres", "sqlserver", "oracle", "sqlite"} {
			_ = Check(d, s)
		}
		_ = Redact(s)
		_ = RedactError(errString(s), s).Error()
	})
}

type errString string

func (e errString) Error() string { return string(e) }
