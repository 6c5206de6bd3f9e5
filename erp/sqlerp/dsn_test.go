package sqlerp

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/erp/sqlerp/dsn"
)

// planted is a password holding every character that breaks a URL DSN
// (% # @ : /) between distinctive pieces: no error may show any piece.
const planted = "Kq9vXw%Ht7Rb#Zp4Ns@Jr2Tm:Mb8Qd/Lc5Wy"

var plantedPieces = []string{"Kq9vXw", "Ht7Rb", "Zp4Ns", "Jr2Tm", "Mb8Qd", "Lc5Wy"}

// pgQuote writes s as a single-quoted PostgreSQL keyword/value.
func pgQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// TestDSNSecretsNeverReachErrors plants the password in DSNs of all four
// drivers, written right and wrong, and checks dsn.Check, Open, a ping (the
// driver connects to a closed port on the loopback) and dsn.Redact: none
// shows any piece of it. A DSN its driver would misread fails at Open,
// before any connection, so no piece of the password is looked up as a host.
func TestDSNSecretsNeverReachErrors(t *testing.T) {
	encoded := url.UserPassword("erp", planted).String() // erp:Kq9vXw%25Ht7Rb%23Zp4Ns%40Jr2Tm:Mb8Qd%2FLc5Wy
	piece := func(c string) string { return "Kq9vXw" + c + "Zp4Ns" }
	type tc struct {
		name, driver, dsn string
		malformed         bool // Open must refuse it without connecting
	}
	tests := []tc{
		{"postgres URL, raw", "postgres", "postgres://erp:" + planted + "@127.0.0.1:1/protheus?sslmode=disable", true},
		{"postgres URL, encoded", "postgres", "postgres://" + encoded + "@127.0.0.1:1/protheus?sslmode=disable&connect_timeout=5", false},
		{"postgres URL, password in the query", "postgres", "postgres://erp@127.0.0.1:1/protheus?sslmode=disable&password=" + url.QueryEscape(planted), false},
		{"postgres keyword/value, quoted", "postgres", "host=127.0.0.1 port=1 user=erp password=" + pgQuote(planted) + " dbname=protheus sslmode=disable connect_timeout=5", false},
		{"postgres keyword/value, unquoted", "postgres", "host=127.0.0.1 port=1 user=erp password=" + planted + " dbname=protheus sslmode=disable connect_timeout=5", false},
		{"postgres keyword/value, unclosed quote", "postgres", "host=127.0.0.1 port=1 user=erp password='" + planted + " dbname=protheus", true},
		{"postgres keyword/value, blank unquoted", "postgres", "host=127.0.0.1 port=1 user=erp password=" + piece(" ") + " dbname=protheus", true},
		{"sqlserver URL, raw", "sqlserver", "sqlserver://erp:" + planted + "@127.0.0.1:1?database=PROTHEUS", true},
		{"sqlserver URL, encoded", "sqlserver", "sqlserver://" + encoded + "@127.0.0.1:1?database=PROTHEUS&dial+timeout=5", false},
		{"sqlserver ADO", "sqlserver", "server=127.0.0.1;port=1;user id=erp;password=" + planted + ";database=PROTHEUS;dial timeout=5", false},
		{"sqlserver ADO, quoted ;", "sqlserver", "server=127.0.0.1;port=1;user id=erp;password=\"" + piece(";") + "\";database=PROTHEUS;dial timeout=5", false},
		{"sqlserver ADO, unquoted ;", "sqlserver", "server=127.0.0.1;port=1;user id=erp;password=" + piece(";") + ";database=PROTHEUS", true},
		{"sqlserver ADO, unclosed quote", "sqlserver", "server=127.0.0.1;port=1;user id=erp;password=\"" + planted + ";database=PROTHEUS", true},
		{"sqlserver ODBC, braced", "sqlserver", "odbc:server=127.0.0.1;port=1;user id=erp;password={" + piece(";") + "};database=PROTHEUS;dial timeout=5", false},
		{"oracle URL, raw", "oracle", "oracle://erp:" + planted + "@127.0.0.1:1/ORCL", true},
		{"oracle URL, encoded", "oracle", "oracle://" + encoded + "@127.0.0.1:1/ORCL?CONNECTION TIMEOUT=5", false},
		{"oracle EZConnect", "oracle", "erp/" + planted + "@127.0.0.1:1/ORCL", true},
		{"sqlite, password parameter", "sqlite", "file:/nonexistent-erpbridge-dir/erp.db?password=" + url.QueryEscape(planted), false},
	}
	// One delimiter at a time in a raw URL password: the ones that split the
	// URL are refused; an @ or : the URL parser reads right.
	for _, c := range []struct {
		char      string
		malformed bool
	}{{"%", true}, {"#", true}, {"/", true}, {"?", true}, {"@", false}, {":", false}} {
		for _, u := range []string{"postgres://erp:%s@127.0.0.1:1/protheus?sslmode=disable&connect_timeout=5", "sqlserver://erp:%s@127.0.0.1:1?database=PROTHEUS", "oracle://erp:%s@127.0.0.1:1/ORCL"} {
			scheme, _, _ := strings.Cut(u, ":")
			tests = append(tests, tc{fmt.Sprintf("%s URL, raw %s", scheme, c.char), map[string]string{"postgres": "postgres", "sqlserver": "sqlserver", "oracle": "oracle"}[scheme],
				fmt.Sprintf(u, piece(c.char)), c.malformed})
		}
	}
	// A password starting with digits makes "erp:1234" read as host:port.
	tests = append(tests, tc{"sqlserver URL, digits then /", "sqlserver", "sqlserver://erp:1234/Zp4Ns@127.0.0.1:1?database=PROTHEUS", true})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var texts []string
			show := func(what string, err error) {
				if err != nil {
					texts = append(texts, what+": "+err.Error(), what+" %+v: "+fmt.Sprintf("%+v", err))
				}
			}
			checkErr := dsn.Check(tt.driver, tt.dsn)
			show("Check", checkErr)
			texts = append(texts, "Redact: "+dsn.Redact(tt.dsn))
			db, _, err := Open(tt.driver, tt.dsn)
			show("Open", err)
			switch {
			case tt.malformed:
				if checkErr == nil || err == nil {
					t.Errorf("Check = %v, Open = %v: want both to refuse the DSN", checkErr, err)
				} else if !strings.Contains(err.Error(), "docs/protheus.md") {
					t.Errorf("Open = %v: want it to say where special characters are explained", err)
				}
				if db != nil {
					db.Close()
				}
			case err != nil:
				t.Errorf("Open = %v, want it to accept the DSN", err)
			default:
				if checkErr != nil {
					t.Errorf("Check = %v, want nil", checkErr)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				perr := db.PingContext(ctx)
				cancel()
				db.Close()
				if perr == nil {
					t.Fatal("ping of a closed port succeeded")
				}
				show("Ping", perr)
			}
			for _, text := range texts {
				for _, p := range plantedPieces {
					if strings.Contains(text, p) {
						t.Errorf("%s\nshows %q of the password", text, p)
					}
				}
			}
		})
	}
}
