package crmv2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/oauth"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// Documented endpoints (docs/rdstation-api.md §2).
const (
	DefaultBaseURL      = "https://api.rd.services/crm/v2"
	DefaultTokenURL     = "https://api.rd.services/oauth2/token"
	DefaultAuthorizeURL = "https://accounts.rdstation.com/oauth/authorize"
	// GrantName is the name the CRM grant is kept under in the checkpoint
	// store (bridge/oauth).
	GrantName = "crm"
	// AuthorizeHint says what to do when there is no grant or RD refused it.
	AuthorizeHint = "run `erpbridge crm authorize` to let the bridge in again"
)

// App is the bridge's OAuth app at RD Station CRM: it builds the
// authorization URL and trades codes and refresh tokens for grants.
type App struct {
	tokenURL, authorizeURL string
	clientID               string
	secret                 *secretString
	http                   *http.Client
	clock                  clock.Clock
}

// secretString keeps the client secret behind a pointer so printing an
// App shows no secret.
type secretString struct{ v string }

// AppConfig configures an App. ClientID and ClientSecret are required.
type AppConfig struct {
	ClientID, ClientSecret string
	// TokenURL and AuthorizeURL default to RD's (DefaultTokenURL,
	// DefaultAuthorizeURL); the simulator serves both on its own host.
	TokenURL, AuthorizeURL string
	HTTPClient             *http.Client
	Clock                  clock.Clock
}

// NewApp checks cfg and returns the app.
func NewApp(cfg AppConfig) (*App, error) {
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("creating the CRM v2 OAuth app: client_id and client_secret are required")
	}
	if cfg.TokenURL == "" {
		cfg.TokenURL = DefaultTokenURL
	}
	if cfg.AuthorizeURL == "" {
		cfg.AuthorizeURL = DefaultAuthorizeURL
	}
	for _, u := range []string{cfg.TokenURL, cfg.AuthorizeURL} {
		if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" {
			return nil, fmt.Errorf("creating the CRM v2 OAuth app: %q is not an absolute URL", u)
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: crm.DefaultTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	return &App{tokenURL: cfg.TokenURL, authorizeURL: cfg.AuthorizeURL, clientID: cfg.ClientID,
		secret: &secretString{cfg.ClientSecret}, http: cfg.HTTPClient, clock: cfg.Clock}, nil
}

// AuthorizeURL is the page an admin opens to let the app in; it sends the
// browser to redirectURI with ?code=… (valid 5 minutes) and the state.
func (a *App) AuthorizeURL(redirectURI, state string) string {
	u, _ := url.Parse(a.authorizeURL)
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", a.clientID)
	q.Set("redirect_uri", redirectURI)
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Exchange trades an authorization code for a grant.
func (a *App) Exchange(ctx context.Context, code, redirectURI string) (oauth.Token, error) {
	return a.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {strings.TrimSpace(code)}, "redirect_uri": {redirectURI}})
}

// Refresh trades a refresh token for a new grant (an oauth.Refresher). RD
// rotates refresh tokens: the one sent dies, so a lost answer loses the
// grant; bridge/oauth commits the answer before anything uses it. A refused
// refresh token matches oauth.ErrRefused. The call is not retried.
func (a *App) Refresh(ctx context.Context, refreshToken string) (oauth.Token, error) {
	return a.token(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
}

// token posts one grant request (form-urlencoded) to the token endpoint.
func (a *App) token(ctx context.Context, form url.Values) (oauth.Token, error) {
	grant := form.Get("grant_type")
	form.Set("client_id", a.clientID)
	form.Set("client_secret", a.secret.v)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return oauth.Token{}, fmt.Errorf("requesting a CRM grant (%s): %w", grant, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := a.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message holds no secret (form body), but keep it short
		}
		return oauth.Token{}, fmt.Errorf("requesting a CRM grant (%s): %w", grant, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return oauth.Token{}, fmt.Errorf("reading the CRM grant answer (%s): %w", grant, err)
	}
	var ans struct {
		AccessToken  string      `json:"access_token"`
		RefreshToken string      `json:"refresh_token"`
		ExpiresIn    json.Number `json:"expires_in"`
		Error        string      `json:"error"`
		Description  string      `json:"error_description"`
	}
	_ = json.Unmarshal(body, &ans)
	if res.StatusCode != http.StatusOK {
		e := &crm.Error{Kind: kindForTokenStatus(res.StatusCode), Method: http.MethodPost, Path: "/oauth2/token", Status: res.StatusCode,
			Message: strings.TrimSpace(ans.Error + ": " + ans.Description)}
		switch {
		case ans.Error == "invalid_grant":
			return oauth.Token{}, fmt.Errorf("%w: %w", oauth.ErrRefused, e)
		case ans.Error == "invalid_client" || res.StatusCode == http.StatusUnauthorized:
			e.Kind, e.Hint = crm.ErrUnauthorized, "RD refused the app's credentials: check crm.client_id and crm.client_secret"
		}
		return oauth.Token{}, e
	}
	if ans.AccessToken == "" || ans.RefreshToken == "" && grant == "authorization_code" {
		return oauth.Token{}, &crm.Error{Kind: crm.ErrServer, Method: http.MethodPost, Path: "/oauth2/token", Status: res.StatusCode,
			Message: "the answer has no access or refresh token"}
	}
	now := a.clock.Now()
	t := oauth.Token{AccessToken: ans.AccessToken, RefreshToken: ans.RefreshToken, ObtainedAt: now}
	if n, err := ans.ExpiresIn.Int64(); err == nil && n > 0 {
		t.Expiry = now.Add(time.Duration(n) * time.Second)
	}
	return t, nil
}

func kindForTokenStatus(status int) error {
	switch {
	case status == http.StatusUnauthorized:
		return crm.ErrUnauthorized
	case status >= 500:
		return crm.ErrServer
	default:
		return crm.ErrBadRequest
	}
}

// NewSource is the grant kept in st under GrantName, refreshed by app.
func NewSource(st *store.Store, app *App, o oauth.Options) *oauth.Source {
	if o.Hint == "" {
		o.Hint = AuthorizeHint
	}
	if o.Clock == nil {
		o.Clock = app.clock
	}
	return oauth.New(st, GrantName, app.Refresh, o)
}

// Config configures a Client. Bearer is required.
type Config struct {
	// BaseURL is the API root (default DefaultBaseURL).
	BaseURL string
	// Bearer hands out access tokens (NewSource).
	Bearer crm.BearerSource
	// Budget is the account's rate budget, shared with any v1 client of
	// the same account (120/min for both).
	Budget *crm.Budget
	// HTTPClient, Timeout, MaxRetries, MaxRateLimitWait and Clock are
	// rdstation/crm's (crm.Config).
	HTTPClient       *http.Client
	Timeout          time.Duration
	MaxRetries       int
	MaxRateLimitWait time.Duration
	Clock            clock.Clock
}

// Client talks to one account through CRM API v2. It is safe for
// concurrent use.
type Client struct {
	api  *crm.Client
	base *url.URL
}

// New returns a client.
func New(cfg Config) (*Client, error) {
	if cfg.Bearer == nil {
		return nil, errors.New("creating CRM v2 client: no access token source")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("creating CRM v2 client: BaseURL %q is not an absolute URL", cfg.BaseURL)
	}
	api, err := crm.New(crm.Config{BaseURL: base.String(), Bearer: cfg.Bearer, Budget: cfg.Budget, HTTPClient: cfg.HTTPClient,
		Timeout: cfg.Timeout, MaxRetries: cfg.MaxRetries, MaxRateLimitWait: cfg.MaxRateLimitWait, Clock: cfg.Clock,
		UserAgent: "erpbridge-crm/2", AuthHint: AuthorizeHint})
	if err != nil {
		return nil, fmt.Errorf("creating CRM v2 client: %w", err)
	}
	return &Client{api: api, base: base}, nil
}

// Stats are the transport's counters.
func (c *Client) Stats() crm.Stats { return c.api.Stats() }
