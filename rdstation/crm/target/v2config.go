package target

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/oauth"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp/sqlerp/dsn"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	crmv2 "github.com/erpbridge/erpbridge/rdstation/crm/v2"
)

// API versions (crm.api).
const (
	APIv1 = "v1"
	APIv2 = "v2"
)

// V2 are the [crm] keys of RD Station CRM API v2 (issue 15), embedded in
// Config: the OAuth app the bridge is registered as at RD. The grant
// (access and refresh token) is not configuration: `erpbridge crm
// authorize` keeps it in the checkpoint store.
type V2 struct {
	// API is "v1" (default: crm.token) or "v2" (OAuth).
	API string `toml:"api"`
	// V2BaseURL is the v2 API root.
	V2BaseURL string `toml:"v2_base_url"`
	// ClientID and ClientSecret are the app's credentials (per product:
	// not the Marketing app's).
	ClientID     string `toml:"client_id"`
	ClientSecret string `toml:"client_secret"`
	// TokenURL and AuthorizeURL are RD's OAuth endpoints.
	TokenURL     string `toml:"token_url"`
	AuthorizeURL string `toml:"authorize_url"`
	// RedirectURI is the app's registered redirect URI. An http URI on
	// 127.0.0.1 or localhost is served by `erpbridge crm authorize`
	// itself; any other, the user pastes the address the browser landed on.
	RedirectURI string `toml:"redirect_uri"`
}

// defaultV2 is V2 with every default set.
func defaultV2() V2 {
	return V2{API: APIv1, V2BaseURL: crmv2.DefaultBaseURL, TokenURL: crmv2.DefaultTokenURL,
		AuthorizeURL: crmv2.DefaultAuthorizeURL, RedirectURI: "http://127.0.0.1:8765/callback"}
}

// validate checks the v2 keys (without I/O).
func (c *V2) validate(v *component.Validation) {
	switch c.API {
	case APIv1:
		return
	case APIv2:
	default:
		v.Bad("api", "%q is not v1 or v2", c.API)
		return
	}
	for key, raw := range map[string]string{"v2_base_url": c.V2BaseURL, "token_url": c.TokenURL, "authorize_url": c.AuthorizeURL, "redirect_uri": c.RedirectURI} {
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.Bad(key, "%q is not an http(s) URL", dsn.Redact(raw))
		}
	}
	if strings.TrimSpace(c.ClientID) == "" {
		v.Bad("client_id", "is required with api = \"v2\" (the app's client id at RD Station)")
	}
	if strings.TrimSpace(c.ClientSecret) == "" {
		v.Bad("client_secret", "is required with api = \"v2\" (write client_secret = \"${secret:RDSTATION_CRM_CLIENT_SECRET}\")")
	}
}

// App is the OAuth app of c.
func (c *Config) App(o Options) (*crmv2.App, error) {
	return crmv2.NewApp(crmv2.AppConfig{ClientID: c.ClientID, ClientSecret: c.ClientSecret,
		TokenURL: c.TokenURL, AuthorizeURL: c.AuthorizeURL, HTTPClient: o.HTTPClient, Clock: o.Clock})
}

// NewV2Client returns the v2 client of c over the grant kept in st,
// sharing the account's request budget with every other client of it in
// the process.
func (c *Config) NewV2Client(st *store.Store, o Options) (*crmv2.Client, error) {
	clk := o.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	app, err := c.App(o)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(c.V2BaseURL + "\x00" + c.ClientID))
	budget := crm.SharedBudget(hex.EncodeToString(sum[:8]), crm.BudgetConfig{
		RequestsPerMinute: c.RequestsPerMinute, Burst: c.Burst, Clock: clk,
	})
	cl, err := crmv2.New(crmv2.Config{BaseURL: c.V2BaseURL, Bearer: crmv2.NewSource(st, app, oauth.Options{Clock: clk}),
		Budget: budget, HTTPClient: o.HTTPClient, Timeout: c.Timeout.D(), MaxRetries: c.MaxRetries, Clock: clk})
	if err != nil {
		return nil, fmt.Errorf("creating CRM v2 client: %w", err)
	}
	return cl, nil
}

// openV2 opens the v2 target system over the grant in the checkpoint store.
func (c *Config) openV2(o component.OpenOptions) (component.TargetSystem, error) {
	if o.Store == nil {
		return nil, fmt.Errorf("crm.api = %q keeps its OAuth grant in the checkpoint store, which this command does not open", APIv2)
	}
	cl, err := c.NewV2Client(o.Store, Options{Clock: o.Clock, HTTPClient: o.HTTPClient, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	return NewSystemV2(cl), nil
}
