package target

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/health"
	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp/sqlerp/dsn"
	"github.com/erpbridge/erpbridge/mapping"
	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// Name is the CRM component's name and its config table.
const Name = "crm"

// AccountLimit is RD Station CRM's documented limit per account.
const AccountLimit = 120

// DefaultCatalogTTL is crm.catalog_ttl's default.
const DefaultCatalogTTL = time.Hour

// Unlimited as requests_per_minute turns the client-side budget off: for
// the simulator and benchmarks only (RD Station would answer 429s).
const Unlimited = -1

func init() { component.Register(crmComponent{}) }

type crmComponent struct{}

var (
	_ component.Component = crmComponent{}
	_ component.Kinded    = crmComponent{}
)

func (crmComponent) Name() string                { return Name }
func (crmComponent) Table() string               { return Name }
func (crmComponent) Kind() component.Kind        { return component.KindTarget }
func (crmComponent) NewConfig() component.Config { return Default() }

// Config is the [crm] table: the RD Station CRM account.
type Config struct {
	BaseURL           string             `toml:"base_url"`
	Token             string             `toml:"token"`
	RequestsPerMinute int                `toml:"requests_per_minute"`
	Burst             int                `toml:"burst"`
	Timeout           component.Duration `toml:"timeout"`
	MaxRetries        int                `toml:"max_retries"`
	// CatalogTTL is how long what the CRM's catalogue holds (custom
	// fields, pipelines, lost reasons, users) and the account check are
	// reused from the checkpoint store before they are read again.
	CatalogTTL component.Duration `toml:"catalog_ttl"`
	// Budget holds the time windows with another requests_per_minute.
	Budget Budget `toml:"budget"`
	// V2 holds the keys of CRM API v2 (api, client_id…; v2config.go).
	V2
}

var (
	_ component.Config    = (*Config)(nil)
	_ component.Validator = (*Config)(nil)
)

// Default is [crm] with every default set.
func Default() *Config {
	return &Config{BaseURL: "https://crm.rdstation.com/api/v1", RequestsPerMinute: 100, Burst: 10,
		Timeout: component.Dur(30 * time.Second), MaxRetries: 5, CatalogTTL: component.Dur(DefaultCatalogTTL), V2: defaultV2()}
}

// Enabled implements component.Config: the CRM is every CRM stream's target.
func (c *Config) Enabled() bool { return true }

// Validate implements component.Validator.
func (c *Config) Validate(v *component.Validation) {
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.Bad("base_url", "%q is not an http(s) URL", dsn.Redact(c.BaseURL))
	} else if u.RawQuery != "" {
		v.Bad("base_url", "must not carry a query string; put the token in crm.token")
	}
	c.V2.validate(v)
	if strings.TrimSpace(c.Token) == "" && c.API != APIv2 {
		v.Bad("token", "is required (write token = \"${RDSTATION_CRM_TOKEN}\" and set the variable)")
	}
	if c.RequestsPerMinute != Unlimited && (c.RequestsPerMinute < 1 || c.RequestsPerMinute > AccountLimit) {
		v.Bad("requests_per_minute", "%d is outside 1..%d (RD Station allows %d per account, shared with its other integrations)", c.RequestsPerMinute, AccountLimit, AccountLimit)
	}
	if c.Burst < 1 {
		v.Bad("burst", "must be at least 1")
	} else if c.RequestsPerMinute != Unlimited && c.RequestsPerMinute+c.Burst > AccountLimit {
		v.Bad("burst", "requests_per_minute + burst = %d exceeds the account's %d per minute; lower one of them", c.RequestsPerMinute+c.Burst, AccountLimit)
	}
	if c.Timeout.D() <= 0 {
		v.Bad("timeout", "must be positive")
	}
	if c.MaxRetries < 0 || c.MaxRetries > 20 {
		v.Bad("max_retries", "%d is outside 0..20", c.MaxRetries)
	}
	if c.CatalogTTL.D() < 0 {
		v.Bad("catalog_ttl", "must not be negative (\"0s\" reads the catalogue at every start)")
	}
	c.validateBudget(v)
}

// TokenRefused says, without the token, why RD Station CRM may have refused
// crm.token and how to check it: what a 401 from the CRM tells the user.
func (c *Config) TokenRefused() string {
	why := "it is wrong, was regenerated, or its user was deactivated"
	switch t := c.Token; {
	case t == "":
		why = "it is empty"
	case strings.Contains(t, "${") || strings.Contains(t, "$") || strings.Count(t, "%") >= 2:
		why = "it looks like an environment reference that was not expanded (it holds \"${\", $NAME or %NAME%): the variable must hold the token itself"
	case t != strings.TrimSpace(t) || strings.ContainsAny(t[:1]+t[len(t)-1:], `"'`):
		why = "it starts or ends with a blank, a line break or a quote (an environment file saved with Windows line ends, or quoted twice?)"
	}
	return "crm.token was refused by RD Station CRM: " + why + ". Copy the token again from RD Station CRM " +
		"(your name, top right → Perfil: the instance token; the bridge acts as that user), set it where erpbridge " +
		"reads it (${RDSTATION_CRM_TOKEN} in the service's environment for an installed service) and run `erpbridge check`"
}

// Options tune NewClient for tests and tools.
type Options struct {
	Clock          clock.Clock
	HTTPClient     *http.Client
	Logger         *zap.Logger
	ObserveRequest func(ctx context.Context, method string, status int, took time.Duration)
}

// NewClient returns the CRM client of c, sharing one request budget per
// account in the process; a budget that already exists takes c's rate (a
// reload), logged.
func (c *Config) NewClient(o Options) (*crm.Client, error) {
	clk := o.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	windows := c.budgetWindows()
	budget := crm.SharedBudget(c.credentials(), crm.BudgetConfig{
		RequestsPerMinute: c.RequestsPerMinute, Burst: c.Burst, Windows: windows, AccountLimit: AccountLimit, Clock: clk,
	})
	before, burstBefore := budget.Rate()
	changed := budget.SetRate(c.RequestsPerMinute, c.Burst)
	if budget.SetWindows(windows) {
		changed = true
	}
	if changed && o.Logger != nil {
		rpm, burst := budget.Rate()
		names := make([]string, len(windows))
		for i, w := range windows {
			names[i] = w.String()
		}
		o.Logger.Info("crm: the account's request budget now follows the new configuration",
			zap.Int("requests_per_minute", rpm), zap.Int("burst", burst), zap.Strings("windows", names),
			zap.Int("was_requests_per_minute", before), zap.Int("was_burst", burstBefore))
	}
	cl, err := crm.New(crm.Config{
		BaseURL: c.BaseURL, Token: c.Token, Budget: budget, HTTPClient: o.HTTPClient,
		Timeout: c.Timeout.D(), MaxRetries: c.MaxRetries, Clock: clk,
		UserAgent: "erpbridge", AuthHint: c.TokenRefused(), ObserveRequest: o.ObserveRequest,
	})
	if err != nil {
		return nil, fmt.Errorf("creating CRM client: %w", err)
	}
	return cl, nil
}

// System is RD Station CRM as the bridge sees it: one target per entity,
// each entity's schema, sales pipelines, users, won deals, the account.
type System struct {
	C     *crm.Client
	users *userDirectory
	cat   *catalog

	set entities
}

var (
	_ component.TargetSystem = (*System)(nil)
	_ component.DealCRM      = (*System)(nil)
)

// NewSystem returns the target system over c, reading its catalogue from
// the CRM; Keep makes it keep the catalogue and what was sent to each deal
// in the checkpoint store.
func NewSystem(c *crm.Client) *System {
	cat := &catalog{clk: clock.Real{}}
	s := &System{C: c, users: &userDirectory{c: c, ttl: 10 * time.Minute, cat: cat}, cat: cat, set: newEntities()}
	c.OnRefused(s.refused)
	return s
}

// Keep makes the system keep, in st, the CRM's catalogue for ttl (read
// with the credentials hashed as cred, on clk) and what was sent to each
// deal. Call it before the system is used.
func (s *System) Keep(st *store.Store, ttl time.Duration, cred string, clk clock.Clock, log *zap.Logger) {
	if clk == nil {
		clk = clock.Real{}
	}
	s.cat.st, s.cat.ttl, s.cat.cred, s.cat.clk, s.cat.log = st, ttl, cred, clk, log
}

// Target implements component.TargetSystem: one target per entity, shared
// by every stream writing it (the contacts of SU5 and of customers' own
// e-mails share one adoption index).
func (s *System) Target(entity string, o component.TargetOptions) (bridge.Target, error) {
	return s.set.target(entity, o, s.newTarget)
}

// newTarget makes the writer of one entity.
func (s *System) newTarget(entity string, o component.TargetOptions) (bridge.Target, error) {
	var t bridge.Target
	switch entity {
	case mapping.EntityOrganization:
		t = NewOrganizations(s.C, o.KeyField)
	case mapping.EntityContact:
		t = NewContacts(s.C, o.OmitSharedKey)
	case mapping.EntityProduct:
		t = NewProducts(s.C)
	case mapping.EntityDeal:
		d := NewDeals(s.C)
		d.Log = o.Log
		if s.cat.st != nil {
			d.Sent = s.cat.st
		}
		t = d
	default:
		return nil, fmt.Errorf("RD Station CRM has no entity %q (it has organization, contact, product, deal)", entity)
	}
	return t, nil
}

// Schema implements component.TargetSystem: read once per process.
func (s *System) Schema(ctx context.Context, entity string) (mapping.Schema, error) {
	return s.set.schema(ctx, entity, func(ctx context.Context, entity string) (mapping.Schema, error) {
		fields, err := cached(ctx, s.cat, catalogFields(entity), func(ctx context.Context) ([]keptField, error) {
			return readFields(ctx, s.C, entity)
		})
		if err != nil {
			return mapping.Schema{}, err
		}
		return schemaOf(entity, fields), nil
	})
}

// Pipelines implements component.DealCRM.
func (s *System) Pipelines(ctx context.Context) ([]component.Pipeline, error) {
	return cached(ctx, s.cat, catalogPipelines, s.readPipelines)
}

func (s *System) readPipelines(ctx context.Context) ([]component.Pipeline, error) {
	ps, err := s.C.ListPipelines(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading CRM pipelines: %w", classify(err))
	}
	out := make([]component.Pipeline, len(ps))
	for i, p := range ps {
		out[i] = component.Pipeline{ID: p.ID, Name: p.Name}
		if to, ok := p.CopyToPipeline(); ok {
			out[i].CopyWonTo = to
		} else {
			out[i].CopyUnknown = true
		}
		stages := p.Stages
		// In their order: the first is where deals without a stage go.
		sortStages(stages)
		for _, st := range stages {
			out[i].Stages = append(out[i].Stages, component.Named{ID: st.ID, Name: st.Name})
		}
	}
	return out, nil
}

// LostReasons implements component.DealCRM.
func (s *System) LostReasons(ctx context.Context) ([]component.Named, error) {
	return cached(ctx, s.cat, catalogLostReasons, s.readLostReasons)
}

func (s *System) readLostReasons(ctx context.Context) ([]component.Named, error) {
	var out []component.Named
	for lr, err := range s.C.LostReasons(ctx, crm.NameQuery{}) {
		if err != nil {
			return nil, fmt.Errorf("reading CRM lost reasons: %w", classify(err))
		}
		out = append(out, component.Named{ID: lr.ID, Name: lr.Name})
	}
	return out, nil
}

// UserByEmail implements component.DealCRM.
func (s *System) UserByEmail(ctx context.Context, email string) (string, error) {
	return s.users.byEmail(ctx, email)
}

// UserEmail implements component.DealCRM.
func (s *System) UserEmail(ctx context.Context, id string) (string, error) {
	return s.users.emailOf(ctx, id)
}

// ProductNamed implements component.DealCRM (a listing of every product:
// the API cannot search them).
func (s *System) ProductNamed(ctx context.Context, name string) (string, error) {
	for p, err := range s.C.Products(ctx, crm.ProductQuery{}) {
		if err != nil {
			return "", fmt.Errorf("reading CRM products: %w", classify(err))
		}
		if strings.EqualFold(strings.TrimSpace(p.Name), strings.TrimSpace(name)) {
			return p.ID, nil
		}
	}
	return "", nil
}

// OrganizationField implements component.DealCRM.
func (s *System) OrganizationField(ctx context.Context, orgID, fieldID string) (string, error) {
	org, err := s.C.GetOrganization(ctx, orgID)
	if err != nil {
		return "", fmt.Errorf("reading organization %s: %w", orgID, classify(err))
	}
	v, _ := crm.FieldValue(org.CustomFields, fieldID)
	return v.Text(), nil
}

// WonDeals implements component.DealCRM.
func (s *System) WonDeals(numberFieldID string) inbound.CRM {
	return WonDeals{C: s.C, NumberFieldID: numberFieldID}
}

// ZoneMargin implements component.DealCRM.
func (*System) ZoneMargin() time.Duration { return ZoneMargin }

// Account is the system's account probe (bridge.CheckAccount).
func (s *System) Account() bridge.AccountProbe {
	return cachedAccount{probe: Account{C: s.C}, cat: s.cat}
}

// Health is the system as the health monitor sees it.
func (s *System) Health() health.CRM { return Health{C: s.C} }

// APICalls is the client's cumulative request count.
func (s *System) APICalls() int64 { return s.C.Stats().Requests }

// sortStages orders a pipeline's stages by their order, stably.
func sortStages(stages []crm.Stage) {
	slices.SortStableFunc(stages, func(a, b crm.Stage) int { return a.Order - b.Order })
}

var (
	_ component.TargetOpener    = (*Config)(nil)
	_ component.AccountReporter = (*System)(nil)
	_ component.HealthReporter  = (*System)(nil)
	_ component.CallCounter     = (*System)(nil)
	_ component.CatalogCacher   = (*System)(nil)
)

// OpenTarget implements component.TargetOpener.
func (c *Config) OpenTarget(_ context.Context, o component.OpenOptions) (component.TargetSystem, error) {
	if c.API == APIv2 {
		return c.openV2(o)
	}
	cl, err := c.NewClient(Options{Clock: o.Clock, HTTPClient: o.HTTPClient, Logger: o.Logger, ObserveRequest: o.ObserveRequest})
	if err != nil {
		return nil, err
	}
	s := NewSystem(cl)
	if o.Store != nil && !o.DryRun { // a dry run keeps nothing, not even the catalogue
		s.Keep(o.Store, c.CatalogTTL.D(), c.credentials(), o.Clock, o.Logger)
	}
	return s, nil
}

// credentials identifies the account's credentials (base URL and token)
// by a hash, never the token: the key of the shared budget and of what the
// catalogue keeps.
func (c *Config) credentials() string {
	sum := sha256.Sum256([]byte(c.BaseURL + "\x00" + c.Token))
	return hex.EncodeToString(sum[:8])
}

// StaticSchema describes an entity without I/O (streams.StaticSchemas):
// `erpbridge validate` checks mappings against it.
func (c *Config) StaticSchema(entity string) mapping.Schema { return StaticSchema(entity) }

var _ component.FieldCreator = (*System)(nil)

// CreateCustomField implements component.FieldCreator: POST /custom_fields;
// what was read of the catalogue is dropped, so the next Schema sees it.
func (s *System) CreateCustomField(ctx context.Context, entity string, f component.NewCustomField) error {
	if _, err := s.C.CreateCustomField(ctx, crm.CustomFieldInput{Label: f.Label, Type: f.Type, For: entity, Options: f.Options}); err != nil {
		return fmt.Errorf("creating the %s custom field %q: %w", entity, f.Label, err)
	}
	_, err := s.Refresh(ctx)
	return err
}
