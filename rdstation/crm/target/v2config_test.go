package target

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/store"
)

// crm.api = "v2" needs the OAuth app and no token; "v1" the token; any
// other value is refused. Errors name the key.
func TestV2ConfigValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(c *Config)
		want []string // substrings of the error; none: valid
	}{
		{"v1 default needs the token", func(c *Config) {}, []string{"crm.token"}},
		{"v1 with token", func(c *Config) { c.Token = "t" }, nil},
		{"v2 needs the app", func(c *Config) { c.API = APIv2 }, []string{"crm.client_id", "crm.client_secret"}},
		{"v2 with the app, no token", func(c *Config) { c.API, c.ClientID, c.ClientSecret = APIv2, "id", "secret" }, nil},
		{"v2 bad url", func(c *Config) {
			c.API, c.ClientID, c.ClientSecret, c.TokenURL = APIv2, "id", "secret", "ftp://x"
		}, []string{"crm.token_url"}},
		{"unknown api", func(c *Config) { c.API, c.Token = "v3", "t" }, []string{"crm.api", `"v3" is not v1 or v2`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.set(c)
			v := component.NewValidation(Name, func(string) string { return "" }, func(string) (component.Config, bool) { return nil, false })
			c.Validate(v)
			err := v.Err()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not name %q", err, w)
				}
			}
		})
	}
}

// With api = "v2" the target opens over the store's grant; without a store
// it says why; deals are not written through v2 yet, and say so.
func TestV2OpensOverTheStore(t *testing.T) {
	c := Default()
	c.API, c.ClientID, c.ClientSecret = APIv2, "id", "secret"
	if _, err := c.OpenTarget(context.Background(), component.OpenOptions{}); err == nil || !strings.Contains(err.Error(), "checkpoint store") {
		t.Fatalf("no store: %v", err)
	}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "erpbridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sys, err := c.OpenTarget(context.Background(), component.OpenOptions{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sys.(*SystemV2); !ok {
		t.Fatalf("api v2 opened %T", sys)
	}
	if _, err := sys.Target("deal", component.TargetOptions{}); err == nil || !strings.Contains(err.Error(), `api = "v1"`) {
		t.Fatalf("deals through v2: %v", err)
	}
}
