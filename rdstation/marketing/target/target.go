// Package target is the component "marketing": RD Station Marketing as a
// target system of the bridge ([marketing] in the configuration). It gives
// the streams two writers: contacts (upserted by e-mail, with tags, custom
// fields and legal bases; their funnel stage as a facet) and events (SALE,
// OPPORTUNITY_LOST, with the documented CONVERSION first for a contact
// Marketing does not know), each never sent twice (bridge.Unrepeatable).
// Its grant (OAuth2) lives in the checkpoint store (bridge/oauth); its
// request budget is its own, apart from the CRM's.
package target

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/health"
	"github.com/erpbridge/erpbridge/bridge/oauth"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp/sqlerp/dsn"
	"github.com/erpbridge/erpbridge/mapping"
	"github.com/erpbridge/erpbridge/rdstation/crm"
	"github.com/erpbridge/erpbridge/rdstation/marketing"
)

// Name is the component's name, its config table and the name its grant
// is stored under.
const Name = "marketing"

// Entities the Marketing target system writes.
const (
	// EntityContact is a Marketing contact (the ERP record's identity is
	// the contact's e-mail, lower case).
	EntityContact = mapping.EntityMarketingContact
	// EntityEvent is an event (SALE, OPPORTUNITY_LOST) of one ERP sale.
	EntityEvent = mapping.EntityMarketingEvent
)

// Events settings (Config.Events).
const (
	EventsAuto         = "auto"
	EventsOff          = "off"
	EventsSales        = "sales"
	EventsSalesAndLost = "sales_and_lost"
)

// AccountLimit is the documented per-account limit of the contacts API and
// of the events API (120 a minute each; 500 on the Advanced plan).
const AccountLimit = 120

// DefaultMaxNewContacts is the default cap on new Marketing contacts one
// run may create (RD Station Marketing is priced by its contact base).
const DefaultMaxNewContacts = 1000

// AuthorizeHint is what to do when the grant is missing or refused.
const AuthorizeHint = "run `erpbridge marketing authorize` (an admin of the RD Station Marketing account lets the app in)"

func init() { component.Register(mktComponent{}) }

type mktComponent struct{}

var (
	_ component.Component = mktComponent{}
	_ component.Kinded    = mktComponent{}
)

func (mktComponent) Name() string                { return Name }
func (mktComponent) Table() string               { return Name }
func (mktComponent) Kind() component.Kind        { return component.KindTarget }
func (mktComponent) NewConfig() component.Config { return Default() }

// Config is the [marketing] table.
type Config struct {
	On bool `toml:"enabled"`
	// BaseURL is the API root.
	BaseURL string `toml:"base_url"`
	// ClientID and ClientSecret are the app's (RD Station App Store).
	ClientID     string `toml:"client_id"`
	ClientSecret string `toml:"client_secret"`
	// RedirectURI is the app's callback URL: `marketing authorize` prints
	// the URL that sends the admin there with the code.
	RedirectURI string `toml:"redirect_uri"`
	// RequestsPerMinute and Burst are the bridge's budget of the account's
	// 120 requests a minute (shared with the account's other integrations).
	RequestsPerMinute int                `toml:"requests_per_minute"`
	Burst             int                `toml:"burst"`
	Timeout           component.Duration `toml:"timeout"`
	MaxRetries        int                `toml:"max_retries"`
	// MaxNewContacts stops a run that would create more new contacts.
	MaxNewContacts int `toml:"max_new_contacts"`
	// Events: auto (off when the CRM has deals from the native
	// CRM↔Marketing integration, else sales_and_lost), off, sales,
	// sales_and_lost.
	Events string `toml:"events"`
	// ConversionIdentifier names the CONVERSION sent first for a contact
	// Marketing does not know.
	ConversionIdentifier string `toml:"conversion_identifier"`
	// LegalBases go with every contact (LGPD); required.
	LegalBases []marketing.LegalBase `toml:"legal_bases"`
}

var (
	_ component.Config       = (*Config)(nil)
	_ component.Validator    = (*Config)(nil)
	_ component.TargetOpener = (*Config)(nil)
)

// Default is [marketing] with every default set.
func Default() *Config {
	return &Config{BaseURL: marketing.DefaultBaseURL, RequestsPerMinute: 100, Burst: 10,
		Timeout: component.Dur(30 * time.Second), MaxRetries: 5, MaxNewContacts: DefaultMaxNewContacts,
		Events: EventsAuto, ConversionIdentifier: "erpbridge-venda-erp"}
}

// Enabled implements component.Config.
func (c *Config) Enabled() bool { return c.On }

// NewContactsCap is max_new_contacts: what a run of a contacts stream may
// create at most.
func (c *Config) NewContactsCap() int { return c.MaxNewContacts }

var legalTypes = []string{"consent", "legitimate_interest", "pre_existent_contract", "judicial_process", "public_interest", "vital_interest"}

// Validate implements component.Validator.
func (c *Config) Validate(v *component.Validation) {
	if !c.On {
		return
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.Bad("base_url", "%q is not an http(s) URL", dsn.Redact(c.BaseURL))
	}
	if strings.TrimSpace(c.ClientID) == "" {
		v.Bad("client_id", "is required (the app's client id: write client_id = \"${RDSTATION_MARKETING_CLIENT_ID}\")")
	}
	if strings.TrimSpace(c.ClientSecret) == "" {
		v.Bad("client_secret", "is required (write client_secret = \"${secret:RDSTATION_MARKETING_CLIENT_SECRET}\")")
	}
	if u, err := url.Parse(c.RedirectURI); c.RedirectURI != "" && (err != nil || u.Scheme == "" || u.Host == "") {
		v.Bad("redirect_uri", "%q is not an absolute URL (the app's callback URL)", c.RedirectURI)
	}
	if c.RequestsPerMinute != -1 && (c.RequestsPerMinute < 1 || c.RequestsPerMinute > AccountLimit) {
		v.Bad("requests_per_minute", "%d is outside 1..%d (RD Station Marketing allows %d per account, shared with its other integrations)", c.RequestsPerMinute, AccountLimit, AccountLimit)
	}
	if c.Burst < 1 {
		v.Bad("burst", "must be at least 1")
	} else if c.RequestsPerMinute != -1 && c.RequestsPerMinute+c.Burst > AccountLimit {
		v.Bad("burst", "requests_per_minute + burst = %d exceeds the account's %d per minute; lower one of them", c.RequestsPerMinute+c.Burst, AccountLimit)
	}
	if c.Timeout.D() <= 0 {
		v.Bad("timeout", "must be positive")
	}
	if c.MaxRetries < 0 || c.MaxRetries > 20 {
		v.Bad("max_retries", "%d is outside 0..20", c.MaxRetries)
	}
	if c.MaxNewContacts < 0 {
		v.Bad("max_new_contacts", "must be 0 (no new contact) or more")
	}
	switch c.Events {
	case EventsAuto, EventsOff, EventsSales, EventsSalesAndLost:
	default:
		v.Bad("events", "%q is not one of auto, off, sales, sales_and_lost", c.Events)
	}
	if strings.TrimSpace(c.ConversionIdentifier) == "" {
		v.Bad("conversion_identifier", "is required (it names the conversion in the contact's history)")
	}
	if len(c.LegalBases) == 0 {
		v.Bad("legal_bases", "is required: every contact is sent with its legal basis (LGPD), e.g. "+
			"[[marketing.legal_bases]] category = \"communications\", type = \"legitimate_interest\", status = \"granted\" — see docs/marketing.md")
	}
	for i, lb := range c.LegalBases {
		switch {
		case lb.Category != "communications":
			v.Bad(fmt.Sprintf("legal_bases[%d].category", i), "%q: RD Station Marketing takes only \"communications\"", lb.Category)
		case !slices.Contains(legalTypes, lb.Type):
			v.Bad(fmt.Sprintf("legal_bases[%d].type", i), "%q is not one of %s", lb.Type, strings.Join(legalTypes, ", "))
		case lb.Status != "granted" && lb.Status != "declined":
			v.Bad(fmt.Sprintf("legal_bases[%d].status", i), "%q is not granted or declined", lb.Status)
		}
	}
}

// budgetKey identifies the account's budget in the process: a hash of the
// base URL and the app, never the secret.
func (c *Config) budgetKey() string {
	sum := sha256.Sum256([]byte("marketing\x00" + c.BaseURL + "\x00" + c.ClientID))
	return "marketing:" + hex.EncodeToString(sum[:8])
}

// NewClient returns the Marketing client of c, its grant in st (nil: a
// client that only authorizes). The budget is the account's, shared in
// the process, apart from the CRM's.
func (c *Config) NewClient(st *store.Store, o component.OpenOptions) (*marketing.Client, error) {
	clk := o.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	budget := crm.SharedBudget(c.budgetKey(), crm.BudgetConfig{RequestsPerMinute: c.RequestsPerMinute, Burst: c.Burst, Clock: clk})
	if budget.SetRate(c.RequestsPerMinute, c.Burst) && o.Logger != nil {
		rpm, burst := budget.Rate()
		o.Logger.Info("marketing: the account's request budget now follows the new configuration",
			zap.Int("requests_per_minute", rpm), zap.Int("burst", burst))
	}
	cfg := marketing.Config{BaseURL: c.BaseURL, ClientID: c.ClientID, ClientSecret: c.ClientSecret, Budget: budget,
		HTTPClient: o.HTTPClient, Timeout: c.Timeout.D(), MaxRetries: c.MaxRetries, Clock: clk, UserAgent: "erpbridge",
		AuthHint: AuthorizeHint}
	if st != nil {
		auth, err := marketing.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("creating Marketing client: %w", err)
		}
		cfg.Tokens = oauth.New(st, Name, auth.Refresh, oauth.Options{Clock: clk, Hint: AuthorizeHint})
	}
	cl, err := marketing.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating Marketing client: %w", err)
	}
	return cl, nil
}

// OpenTarget implements component.TargetOpener.
func (c *Config) OpenTarget(_ context.Context, o component.OpenOptions) (component.TargetSystem, error) {
	cl, err := c.NewClient(o.Store, o)
	if err != nil {
		return nil, err
	}
	return NewSystem(cl, c, o.Clock), nil
}

// System is RD Station Marketing as the bridge sees it.
type System struct {
	C   *marketing.Client
	cfg *Config
	clk clock.Clock

	mu       sync.Mutex
	contacts *Contacts
	events   *Events
	fields   []marketing.Field
}

var (
	_ component.TargetSystem   = (*System)(nil)
	_ component.CallCounter    = (*System)(nil)
	_ component.HealthReporter = (*System)(nil)
)

// NewSystem returns the target system over c.
func NewSystem(c *marketing.Client, cfg *Config, clk clock.Clock) *System {
	if clk == nil {
		clk = clock.Real{}
	}
	return &System{C: c, cfg: cfg, clk: clk}
}

// Settings are the [marketing] settings the system was opened with.
func (s *System) Settings() *Config { return s.cfg }

// Target implements component.TargetSystem: contacts (EntityContact),
// events (EntityEvent); the contacts' funnel is the facet
// EntityContact + ".stage" (an update-only writer of its own).
func (s *System) Target(entity string, o component.TargetOptions) (bridge.Target, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch entity {
	case EntityContact:
		if o.UpdateOnly {
			return &Stages{c: s.C, quota: s.contactsLocked().quota}, nil
		}
		return s.contactsLocked(), nil
	case EntityEvent:
		if s.events == nil {
			s.events = &Events{c: s.C, legal: s.cfg.LegalBases, conversion: s.cfg.ConversionIdentifier, clk: s.clk}
		}
		return s.events, nil
	}
	return nil, fmt.Errorf("RD Station Marketing has no entity %q (it has %s, %s)", entity, EntityContact, EntityEvent)
}

func (s *System) contactsLocked() *Contacts {
	if s.contacts == nil {
		s.contacts = &Contacts{c: s.C, legal: s.cfg.LegalBases, quota: newQuota(s.clk, marketing24h, perContactPatches)}
	}
	return s.contacts
}

// Fields reads the account's contact fields once per process.
func (s *System) Fields(ctx context.Context) ([]marketing.Field, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fields != nil {
		return s.fields, nil
	}
	fs, err := s.C.Fields(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the Marketing contact fields: %w", classify(err))
	}
	s.fields = fs
	return fs, nil
}

// contactFields are the standard contact fields a mapping may write.
var contactFields = map[string]mapping.FieldSpec{
	"email": textField, "name": textField, "job_title": textField, "birthdate": {Kind: mapping.FieldISODate},
	"bio": {Kind: mapping.FieldText, Limit: mapping.LongTextLimit, Long: true}, "website": textField,
	"personal_phone": textField, "mobile_phone": textField, "city": textField, "state": textField, "country": textField,
	"twitter": textField, "facebook": textField, "linkedin": textField, "company_name": textField,
	"company_site": textField, "company_address": textField, "tags": {Kind: mapping.FieldTextList},
}

var textField = mapping.FieldSpec{Kind: mapping.FieldText}

// StaticSchema describes contacts without I/O (`erpbridge validate`).
func StaticSchema() mapping.Schema {
	return mapping.Schema{Entity: EntityContact, Fields: contactFields, CustomKey: CustomKey}
}

// StaticSchema implements streams.StaticSchemas for the settings.
func (c *Config) StaticSchema(entity string) mapping.Schema {
	if entity != EntityContact {
		return mapping.Schema{Entity: entity}
	}
	return StaticSchema()
}

// CustomKey is where a mapped payload carries custom field values; the
// contacts writer sends each as a top-level cf_* key.
const CustomKey = "custom_fields"

// Schema implements component.TargetSystem: contacts' standard fields and
// the account's custom fields by label (their api_identifier is the id).
func (s *System) Schema(ctx context.Context, entity string) (mapping.Schema, error) {
	if entity != EntityContact {
		return mapping.Schema{}, fmt.Errorf("RD Station Marketing describes no entity %q", entity)
	}
	fs, err := s.Fields(ctx)
	if err != nil {
		return mapping.Schema{}, err
	}
	sc := StaticSchema()
	sc.Custom = mapping.CustomFieldCatalog{}
	for _, f := range fs {
		if !f.Custom {
			continue
		}
		cf := mapping.CustomField{ID: f.APIIdentifier, Type: FieldType(f), Options: f.Options}
		sc.Custom[f.Label] = cf
		if _, dup := sc.Custom[f.APIIdentifier]; !dup {
			sc.Custom[f.APIIdentifier] = cf // a mapping may name it by cf_* too
		}
	}
	return sc, nil
}

// FieldType is the mapping type of a Marketing field.
func FieldType(f marketing.Field) mapping.FieldType {
	switch {
	case f.DataType == "INTEGER":
		return mapping.TypeNumber
	case f.DataType == "BOOLEAN":
		return mapping.TypeBool
	case f.DataType == "STRING[]" && len(f.Options) > 0:
		return mapping.TypeMultipleChoice
	case len(f.Options) > 0:
		return mapping.TypeOption
	}
	return mapping.TypeText
}

// APICalls implements component.CallCounter.
func (s *System) APICalls() int64 { return s.C.Stats().Requests }

// Health implements component.HealthReporter.
func (s *System) Health() health.CRM { return healthProbe{s} }

type healthProbe struct{ s *System }

func (h healthProbe) Stats() health.Stats { return h.s.C.Stats() }
func (h healthProbe) Ping(ctx context.Context) error {
	_, err := h.s.C.Fields(ctx)
	return err
}

// classify wraps a client error in the engine's error class; clk dates a
// contact's deferral.
func classify(err error, clk ...clock.Clock) error {
	var cl *marketing.ContactLimitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &cl):
		now := time.Now()
		if len(clk) > 0 && clk[0] != nil {
			now = clk[0].Now()
		}
		return &bridge.DeferError{Until: now.Add(cl.RetryIn), Err: err}
	case errors.Is(err, marketing.ErrRateLimited):
		return fmt.Errorf("%w: %w", bridge.ErrRateLimited, err)
	case errors.Is(err, marketing.ErrOutcomeUnknown):
		return fmt.Errorf("%w: %w", bridge.ErrOutcomeUnknown, err)
	case errors.Is(err, marketing.ErrBadRequest), errors.Is(err, marketing.ErrValidation), errors.Is(err, marketing.ErrTooLarge),
		errors.Is(err, marketing.ErrUnsupportedMediaType):
		return fmt.Errorf("%w: %w", bridge.ErrRejected, err)
	case errors.Is(err, marketing.ErrUnauthorized), errors.Is(err, marketing.ErrForbidden), errors.Is(err, marketing.ErrTokenExpired),
		errors.Is(err, oauth.ErrNotAuthorized), errors.Is(err, oauth.ErrRefused):
		return fmt.Errorf("%w: %w", bridge.ErrFatal, err)
	case errors.Is(err, marketing.ErrNotFound):
		return fmt.Errorf("%w: %w", bridge.ErrGone, err)
	}
	return err
}
