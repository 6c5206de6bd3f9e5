package rdsim

// RD Station Marketing (docs/rdstation-api.md §3), served beside the CRM
// by the same Sim under /auth/* and /platform/*: OAuth2 (code grant,
// 24-hour access tokens, refresh, optional rotation), contacts (upsert by
// PATCH, tags, custom fields, the funnel), events (single and batch), the
// per-account and per-contact limits with their exact bodies, and an admin
// surface under /_sim/marketing/. Its state, switches, faults and counts
// are its own: the CRM part behaves exactly as without it.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
)

// Marketing defaults.
const (
	// DefaultMarketingClientID and DefaultMarketingClientSecret are the app
	// credentials the simulator accepts when MarketingOptions has none.
	DefaultMarketingClientID     = "sim-client"
	DefaultMarketingClientSecret = "sim-secret"
	// MarketingAccessTokenLifetime is the documented access token lifetime.
	MarketingAccessTokenLifetime = 24 * time.Hour
	// MarketingCodeLifetime is how long an authorization code lasts.
	MarketingCodeLifetime = time.Hour
	// Per-contact limits over 24 hours, and the per-account tag limit.
	MarketingPatchesPerContact = 24
	MarketingTagsPerContact    = 24
	MarketingFunnelPerContact  = 24
	MarketingEventsPerContact  = 120
	MarketingTagsPerAccount    = 15000
	// MarketingBatchLimit is the batch body limit (0.2 MB).
	MarketingBatchLimit = 200_000
	// marketingURLLimit is the longest URL the API takes (8 KB).
	marketingURLLimit = 8 << 10
)

// MarketingOptions configures the Marketing part of a Sim.
type MarketingOptions struct {
	// ClientID and ClientSecret are the app credentials accepted (default
	// DefaultMarketingClientID / DefaultMarketingClientSecret).
	ClientID, ClientSecret string
	// RequestsPerMinute is the per-account limit of the contacts API and,
	// separately, of the events API (default 120; negative: unlimited).
	RequestsPerMinute int
	// AccessTokenLifetime overrides the 24 hours (tests).
	AccessTokenLifetime time.Duration
}

// MarketingSwitches select the Marketing behaviours docs/rdstation-api.md
// marks [U]. The zero value is the documented or most common behaviour.
type MarketingSwitches struct {
	// RefreshRotation: each refresh returns a new refresh token and retires
	// the one sent (a refresh token used twice fails with
	// INVALID_REFRESH_TOKEN). Default off: the docs say a refresh token
	// never expires, and the refresh answer carries the same one.
	RefreshRotation bool `json:"refresh_rotation,omitempty"`
	// EventsForUnknownContacts is what SALE, OPPORTUNITY and
	// OPPORTUNITY_LOST do for an e-mail Marketing has no contact for
	// [U "the error for events on unknown contacts"]:
	//   "" or "refuse": 404 RESOURCE_NOT_FOUND, nothing recorded
	//   "accept":       200 with an event_uuid, recorded without a contact
	//                   (lost to every report)
	EventsForUnknownContacts string `json:"events_for_unknown_contacts,omitempty"`
	// SaleValueRequired refuses a SALE without value (400 CANNOT_BE_NULL).
	// [U "whether SALE value is required"]; default optional.
	SaleValueRequired bool `json:"sale_value_required,omitempty"`
	// RefuseInvalidOptions answers a custom field value that is not one of
	// the field's options with 400 INVALID_OPTION. Default: the value is
	// dropped without a word (the contact is saved without it), the silent
	// loss users report of option fields. [U]
	RefuseInvalidOptions bool `json:"refuse_invalid_options,omitempty"`
	// RetryAfterHeader sends Retry-After (whole seconds) with per-account
	// 429s. [U]: not documented for Marketing.
	RetryAfterHeader bool `json:"retry_after_header,omitempty"`
}

// Unknown-contact event behaviours (MarketingSwitches.EventsForUnknownContacts).
const (
	UnknownContactsRefuse = "refuse"
	UnknownContactsAccept = "accept"
)

// MarketingLegalBase is one legal basis of a contact.
type MarketingLegalBase struct {
	Category string `json:"category"`
	Type     string `json:"type"`
	Status   string `json:"status"`
}

// MarketingFunnel is a contact's place in the default funnel.
type MarketingFunnel struct {
	LifecycleStage    string `json:"lifecycle_stage"`
	Opportunity       bool   `json:"opportunity"`
	ContactOwnerEmail string `json:"contact_owner_email"`
	Fit               string `json:"fit"`
	Interest          string `json:"interest"`
}

// MarketingContact is a Marketing contact as the read-back API shows it:
// every field, custom ones by api_identifier, tags, legal bases, funnel.
type MarketingContact struct {
	UUID           string               `json:"uuid"`
	Email          string               `json:"email"`
	Name           string               `json:"name,omitempty"`
	JobTitle       string               `json:"job_title,omitempty"`
	Birthdate      string               `json:"birthdate,omitempty"`
	Bio            string               `json:"bio,omitempty"`
	Website        string               `json:"website,omitempty"`
	PersonalPhone  string               `json:"personal_phone,omitempty"`
	MobilePhone    string               `json:"mobile_phone,omitempty"`
	City           string               `json:"city,omitempty"`
	State          string               `json:"state,omitempty"`
	Country        string               `json:"country,omitempty"`
	Twitter        string               `json:"twitter,omitempty"`
	Facebook       string               `json:"facebook,omitempty"`
	Linkedin       string               `json:"linkedin,omitempty"`
	CompanyName    string               `json:"company_name,omitempty"`
	CompanySite    string               `json:"company_site,omitempty"`
	CompanyAddress string               `json:"company_address,omitempty"`
	Tags           []string             `json:"tags"`
	ExtraEmails    []string             `json:"extra_emails,omitempty"`
	LegalBases     []MarketingLegalBase `json:"legal_bases"`
	Fields         map[string]any       `json:"fields,omitempty"` // cf_* values
	Funnel         MarketingFunnel      `json:"funnel"`
	// Conversions counts the CONVERSION events recorded for the contact.
	Conversions int       `json:"conversions"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// MarketingEvent is one event as recorded, in the order received.
type MarketingEvent struct {
	UUID      string         `json:"event_uuid"`
	Type      string         `json:"event_type"`
	Family    string         `json:"event_family"`
	Email     string         `json:"email"`
	Payload   map[string]any `json:"payload"`
	BatchUUID string         `json:"event_batch_uuid,omitempty"`
	// NoContact: recorded for an e-mail Marketing has no contact for
	// (EventsForUnknownContacts = "accept").
	NoContact bool      `json:"no_contact,omitempty"`
	At        time.Time `json:"at"`
}

// MarketingField is a contact field of the account.
type MarketingField struct {
	UUID          string `json:"uuid"`
	APIIdentifier string `json:"api_identifier"`
	Custom        bool   `json:"custom_field"`
	// DataType is STRING, STRING[], INTEGER or BOOLEAN.
	DataType string `json:"data_type"`
	// PresentationType is TEXT_INPUT, TEXT_AREA, URL_INPUT, PHONE_INPUT,
	// EMAIL_INPUT, CHECK_BOX, NUMBER_INPUT, COMBO_BOX, RADIO_BUTTON or
	// MULTIPLE_CHOICE.
	PresentationType string `json:"presentation_type"`
	Label            string `json:"label"`
	// Options are the accepted values of COMBO_BOX, RADIO_BUTTON and
	// MULTIPLE_CHOICE fields.
	Options []string `json:"options,omitempty"`
}

// MarketingState is everything the Marketing part holds.
type MarketingState struct {
	Contacts []MarketingContact `json:"contacts"`
	Events   []MarketingEvent   `json:"events"`
	Fields   []MarketingField   `json:"fields"`
	// AccessTokens and RefreshTokens count the live tokens.
	AccessTokens  int `json:"access_tokens"`
	RefreshTokens int `json:"refresh_tokens"`
}

// MarketingSeed adds records without API validation (POST /_sim/marketing/seed).
type MarketingSeed struct {
	Fields   []MarketingField   `json:"fields"`
	Contacts []MarketingContact `json:"contacts"`
}

// marketing is the Marketing part's state. Its lock is its own.
type marketing struct {
	sim   *Sim
	opts  MarketingOptions
	clock clock.Clock
	mux   *http.ServeMux

	mu       sync.Mutex
	rng      *rand.Rand
	codes    map[string]*mktCode
	access   map[string]time.Time // access token → expiry
	refresh  map[string]bool      // refresh token → live
	contacts map[string]*MarketingContact
	events   []MarketingEvent
	fields   []MarketingField
	// quotas: kind → e-mail → the times of the requests counted in the
	// last 24 hours; tagsDay the account's tag requests.
	quotas  map[string]map[string][]time.Time
	tagsDay []time.Time

	cfgMu    sync.Mutex
	switches MarketingSwitches
	faults   Faults
	faultRNG *rand.Rand

	contactsRate, eventsRate *rateWindow
	counts                   *counter
}

type mktCode struct {
	clientID, redirectURI string
	expires               time.Time
	used                  bool
}

func newMarketing(o MarketingOptions, clk clock.Clock, seed int64) *marketing {
	if o.ClientID == "" {
		o.ClientID = DefaultMarketingClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultMarketingClientSecret
	}
	if o.RequestsPerMinute == 0 {
		o.RequestsPerMinute = 120
	}
	if o.AccessTokenLifetime <= 0 {
		o.AccessTokenLifetime = MarketingAccessTokenLifetime
	}
	m := &marketing{
		opts: o, clock: clk, mux: http.NewServeMux(),
		faultRNG:     rand.New(rand.NewPCG(uint64(seed), 0x3a7)),
		contactsRate: newRateWindow(o.RequestsPerMinute),
		eventsRate:   newRateWindow(o.RequestsPerMinute),
		counts:       newCounter(),
	}
	m.reset(seed)
	m.routes()
	return m
}

// reset empties the account: no tokens, contacts or events; the standard
// fields only.
func (m *marketing) reset(seed int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rng = rand.New(rand.NewPCG(uint64(seed), 0x6d6b74))
	m.codes, m.access, m.refresh = map[string]*mktCode{}, map[string]time.Time{}, map[string]bool{}
	m.contacts, m.events = map[string]*MarketingContact{}, nil
	m.quotas, m.tagsDay = map[string]map[string][]time.Time{}, nil
	m.fields = nil
	for _, f := range standardFields {
		f.UUID = m.uuid()
		m.fields = append(m.fields, f)
	}
	m.contactsRate.reset()
	m.eventsRate.reset()
}

// standardFields are the fields every account has (not custom).
var standardFields = []MarketingField{
	{APIIdentifier: "email", DataType: "STRING", PresentationType: "EMAIL_INPUT", Label: "Email"},
	{APIIdentifier: "name", DataType: "STRING", PresentationType: "TEXT_INPUT", Label: "Nome"},
	{APIIdentifier: "job_title", DataType: "STRING", PresentationType: "TEXT_INPUT", Label: "Cargo"},
	{APIIdentifier: "state", DataType: "STRING", PresentationType: "TEXT_INPUT", Label: "Estado"},
	{APIIdentifier: "city", DataType: "STRING", PresentationType: "TEXT_INPUT", Label: "Cidade"},
	{APIIdentifier: "country", DataType: "STRING", PresentationType: "TEXT_INPUT", Label: "País"},
	{APIIdentifier: "personal_phone", DataType: "STRING", PresentationType: "PHONE_INPUT", Label: "Telefone"},
	{APIIdentifier: "mobile_phone", DataType: "STRING", PresentationType: "PHONE_INPUT", Label: "Celular"},
	{APIIdentifier: "twitter", DataType: "STRING", PresentationType: "URL_INPUT", Label: "Twitter"},
	{APIIdentifier: "facebook", DataType: "STRING", PresentationType: "URL_INPUT", Label: "Facebook"},
	{APIIdentifier: "linkedin", DataType: "STRING", PresentationType: "URL_INPUT", Label: "LinkedIn"},
	{APIIdentifier: "website", DataType: "STRING", PresentationType: "URL_INPUT", Label: "Site"},
	{APIIdentifier: "company_name", DataType: "STRING", PresentationType: "TEXT_INPUT", Label: "Empresa"},
	{APIIdentifier: "company_site", DataType: "STRING", PresentationType: "URL_INPUT", Label: "Site da empresa"},
	{APIIdentifier: "company_address", DataType: "STRING", PresentationType: "TEXT_INPUT", Label: "Endereço da empresa"},
	{APIIdentifier: "bio", DataType: "STRING", PresentationType: "TEXT_AREA", Label: "Bio"},
	{APIIdentifier: "birthdate", DataType: "STRING", PresentationType: "TEXT_INPUT", Label: "Data de nascimento"},
}

// uuid draws a v4-shaped id. Callers hold m.mu.
func (m *marketing) uuid() string {
	a, b := m.rng.Uint64(), m.rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", uint32(a>>32), uint16(a>>16), uint16(a)&0xfff,
		0x8000|uint16(b>>48)&0x3fff, b&0xffffffffffff)
}

// token draws an opaque token. Callers hold m.mu.
func (m *marketing) token(prefix string) string {
	return fmt.Sprintf("%s%016x%016x", prefix, m.rng.Uint64(), m.rng.Uint64())
}

// serves reports whether path is the Marketing part's (API or admin).
func marketingPath(path string) bool {
	return strings.HasPrefix(path, "/auth/") || strings.HasPrefix(path, "/platform/") ||
		path == "/_sim/marketing" || strings.HasPrefix(path, "/_sim/marketing/")
}

// serve runs one Marketing request: admin, or API through fault injection,
// authentication and the rate windows, counted on the way out.
func (m *marketing) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		m.serveAdmin(w, r)
		return
	}
	_, pattern := m.mux.Handler(r)
	route := pattern
	if route == "" {
		route = r.Method + " (unmatched)"
	}
	ev := event{route: route, method: r.Method}
	counted := false
	finish := func() {
		if !counted {
			counted = true
			m.counts.add(ev)
		}
	}
	defer finish()
	if len(r.URL.String()) > marketingURLLimit {
		ev.status = writeJSON(w, http.StatusRequestURITooLong, mktError("REQUEST_URI_TOO_LONG", "The URL is too long"))
		return
	}
	if pattern == "" {
		ev.status = writeJSON(w, http.StatusNotFound, mktError("RESOURCE_NOT_FOUND", "Route not found"))
		return
	}
	platform := strings.HasPrefix(r.URL.Path, "/platform/")
	if platform {
		if status := m.authenticate(w, r); status != 0 {
			ev.status = status
			return
		}
	}
	sw := m.Switches()
	fault := m.drawFault(r)
	ev.fault = fault
	switch fault {
	case FaultRateLimited:
		ev.status = m.writeRateLimited(w, sw, time.Minute)
		return
	case FaultServerError:
		ev.status = writeJSON(w, http.StatusInternalServerError, mktError("SERVICE_UNAVAILABLE", "Service unavailable"))
		return
	case FaultDrop:
		finish()
		abortConnection(w)
		return
	case FaultSlow:
		if err := m.clock.Sleep(r.Context(), DefaultSlowDelay); err != nil {
			abortConnection(w)
			return
		}
	}
	if platform {
		win := m.contactsRate
		if strings.HasPrefix(r.URL.Path, "/platform/events") {
			win = m.eventsRate
		}
		if ok, wait := win.allow(m.clock.Now(), ""); !ok {
			ev.status = m.writeRateLimited(w, sw, wait)
			return
		}
	}
	buf := newBufferedResponse()
	m.mux.ServeHTTP(buf, r)
	ev.status = buf.statusCode()
	if fault == FaultLostResponse {
		finish()
		abortConnection(w)
		return
	}
	buf.copyTo(w)
}

func (m *marketing) drawFault(r *http.Request) FaultKind {
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	return m.faults.draw(r, m.faultRNG)
}

// writeRateLimited writes the per-account 429 (§3.4, typo included).
func (m *marketing) writeRateLimited(w http.ResponseWriter, sw MarketingSwitches, wait time.Duration) int {
	if sw.RetryAfterHeader {
		w.Header().Set("Retry-After", strconv.Itoa(max(int(wait.Seconds()+0.999), 1)))
	}
	return writeJSON(w, http.StatusTooManyRequests, mktError("RATE_LIMIT_EXCEDDED", "API usage limit exceeded"))
}

// authenticate checks the bearer token of a /platform request; it writes
// the documented 401 and returns its status when the token is missing,
// unknown or expired.
func (m *marketing) authenticate(w http.ResponseWriter, r *http.Request) int {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	tok = strings.TrimSpace(tok)
	if !ok || tok == "" {
		return writeJSON(w, http.StatusUnauthorized, obj{"error": "invalid_request", "error_description": "The access token is missing"})
	}
	m.mu.Lock()
	exp, known := m.access[tok]
	m.mu.Unlock()
	switch {
	case !known:
		return writeJSON(w, http.StatusUnauthorized, obj{"errors": []any{obj{"error_type": "UNAUTHORIZED", "error_message": "Invalid token."}}})
	case !m.clock.Now().Before(exp):
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://api.rd.services/", error="expired_token", error_description="The access token expired"`)
		return writeJSON(w, http.StatusUnauthorized, obj{"error": "invalid_token", "error_description": "The access token is invalid or has expired"})
	}
	return 0
}

// mktError is the single-error body of §3.4.
func mktError(typ, msg string) obj {
	return obj{"errors": obj{"error_type": typ, "error_message": msg}}
}

// mktPathErrors is the array form of §3.4, one entry per problem.
func mktPathErrors(errs ...obj) obj {
	list := make([]any, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return obj{"errors": list}
}

func mktPathError(typ, msg, path string) obj {
	return obj{"error_type": typ, "error_message": msg, "path": path}
}

// SetMarketingSwitches replaces every Marketing switch.
func (s *Sim) SetMarketingSwitches(sw MarketingSwitches) {
	s.mkt.cfgMu.Lock()
	defer s.mkt.cfgMu.Unlock()
	s.mkt.switches = sw
}

// MarketingSwitches returns the Marketing switches.
func (s *Sim) MarketingSwitches() MarketingSwitches { return s.mkt.Switches() }

func (m *marketing) Switches() MarketingSwitches {
	m.cfgMu.Lock()
	defer m.cfgMu.Unlock()
	return m.switches
}

// SetMarketingFaults replaces the Marketing fault configuration (its
// PathPrefix is a path such as "/platform/events").
func (s *Sim) SetMarketingFaults(f Faults) {
	s.mkt.cfgMu.Lock()
	defer s.mkt.cfgMu.Unlock()
	f.Methods = append([]string(nil), f.Methods...)
	f.Script = append([]FaultKind(nil), f.Script...)
	s.mkt.faults = f
}

// MarketingFaults returns the Marketing faults, with what is left of the script.
func (s *Sim) MarketingFaults() Faults {
	s.mkt.cfgMu.Lock()
	defer s.mkt.cfgMu.Unlock()
	f := s.mkt.faults
	f.Methods = append([]string(nil), f.Methods...)
	f.Script = append([]FaultKind(nil), f.Script...)
	return f
}

// MarketingCounts returns the Marketing request counters.
func (s *Sim) MarketingCounts() RequestCounts { return s.mkt.counts.snapshot() }

// ResetMarketingCounts zeroes the Marketing request counters.
func (s *Sim) ResetMarketingCounts() { s.mkt.counts.reset() }

// ExpireMarketingTokens makes every access token issued so far expired:
// the next call with one gets the expired-token 401.
func (s *Sim) ExpireMarketingTokens() {
	m := s.mkt
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	for t := range m.access {
		m.access[t] = now
	}
}

// AuthorizeMarketing is what an admin clicking "allow" on /auth/dialog
// does: it returns a fresh authorization code for the app.
func (s *Sim) AuthorizeMarketing(clientID, redirectURI string) (string, error) {
	m := s.mkt
	if clientID != m.opts.ClientID {
		return "", fmt.Errorf("unknown client_id %q", clientID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	code := m.token("code-")
	m.codes[code] = &mktCode{clientID: clientID, redirectURI: redirectURI, expires: m.clock.Now().Add(MarketingCodeLifetime)}
	return code, nil
}

// MarketingState returns a copy of everything the Marketing part holds.
func (s *Sim) MarketingState() MarketingState {
	m := s.mkt
	m.mu.Lock()
	defer m.mu.Unlock()
	var st MarketingState
	for _, c := range sortedContacts(m.contacts) {
		st.Contacts = append(st.Contacts, copyContact(*c))
	}
	for _, e := range m.events {
		e.Payload = cloneMap(e.Payload)
		st.Events = append(st.Events, e)
	}
	for _, f := range m.fields {
		f.Options = append([]string(nil), f.Options...)
		st.Fields = append(st.Fields, f)
	}
	now := m.clock.Now()
	for _, exp := range m.access {
		if now.Before(exp) {
			st.AccessTokens++
		}
	}
	for _, live := range m.refresh {
		if live {
			st.RefreshTokens++
		}
	}
	return st
}

// SeedMarketing adds fields and contacts without API validation.
func (s *Sim) SeedMarketing(sd MarketingSeed) error {
	m := s.mkt
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range sd.Fields {
		if f.Custom && !strings.HasPrefix(f.APIIdentifier, "cf_") {
			return fmt.Errorf("custom field %q: api_identifier must start with cf_", f.APIIdentifier)
		}
		if m.field(f.APIIdentifier) != nil {
			return fmt.Errorf("field %q exists", f.APIIdentifier)
		}
		if f.UUID == "" {
			f.UUID = m.uuid()
		}
		if f.DataType == "" {
			f.DataType = "STRING"
		}
		if f.PresentationType == "" {
			f.PresentationType = "TEXT_INPUT"
		}
		m.fields = append(m.fields, f)
	}
	now := m.clock.Now()
	for _, c := range sd.Contacts {
		key := strings.ToLower(strings.TrimSpace(c.Email))
		if key == "" {
			return fmt.Errorf("a seeded contact has no e-mail")
		}
		c := copyContact(c)
		c.Email = key
		if c.UUID == "" {
			c.UUID = m.uuid()
		}
		if c.Funnel.LifecycleStage == "" {
			c.Funnel.LifecycleStage = "Lead"
		}
		if c.CreatedAt.IsZero() {
			c.CreatedAt, c.UpdatedAt = now, now
		}
		m.contacts[key] = &c
	}
	return nil
}

// field returns the field with an api_identifier. Callers hold m.mu.
func (m *marketing) field(id string) *MarketingField {
	for i := range m.fields {
		if m.fields[i].APIIdentifier == id {
			return &m.fields[i]
		}
	}
	return nil
}

// serveAdmin serves /_sim/marketing/*: no token, never limited nor counted.
func (m *marketing) serveAdmin(w http.ResponseWriter, r *http.Request) {
	s := m.sim
	route := r.Method + " " + strings.TrimPrefix(r.URL.Path, "/_sim/marketing")
	switch route {
	case "GET /state":
		writeJSON(w, http.StatusOK, s.MarketingState())
	case "POST /seed":
		var sd MarketingSeed
		if !decodeAdmin(w, r, &sd) {
			return
		}
		if err := s.SeedMarketing(sd); err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, obj{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, obj{"ok": true})
	case "GET /faults":
		writeJSON(w, http.StatusOK, s.MarketingFaults())
	case "PUT /faults":
		var f Faults
		if decodeAdmin(w, r, &f) {
			s.SetMarketingFaults(f)
			writeJSON(w, http.StatusOK, s.MarketingFaults())
		}
	case "GET /switches":
		writeJSON(w, http.StatusOK, s.MarketingSwitches())
	case "PUT /switches":
		var sw MarketingSwitches
		if decodeAdmin(w, r, &sw) {
			s.SetMarketingSwitches(sw)
			writeJSON(w, http.StatusOK, s.MarketingSwitches())
		}
	case "GET /requests":
		writeJSON(w, http.StatusOK, s.MarketingCounts())
	case "DELETE /requests":
		s.ResetMarketingCounts()
		writeJSON(w, http.StatusOK, s.MarketingCounts())
	case "POST /expire_tokens":
		s.ExpireMarketingTokens()
		writeJSON(w, http.StatusOK, obj{"ok": true})
	case "POST /authorize":
		q := r.URL.Query()
		code, err := s.AuthorizeMarketing(q.Get("client_id"), q.Get("redirect_uri"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, obj{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, obj{"code": code})
	case "POST /reset":
		m.reset(s.opts.Seed)
		writeJSON(w, http.StatusOK, obj{"ok": true})
	default:
		writeJSON(w, http.StatusNotFound, obj{"error": "unknown admin route " + r.Method + " " + r.URL.Path})
	}
}

// quota counts one request of kind for contact email against limit per 24
// hours and reports whether it is allowed; when not, the 429 body. Callers
// hold m.mu.
func (m *marketing) quota(kind, email string, limit int) (bool, obj) {
	now := m.clock.Now()
	byContact := m.quotas[kind]
	if byContact == nil {
		byContact = map[string][]time.Time{}
		m.quotas[kind] = byContact
	}
	hits := byContact[email]
	i := 0
	for i < len(hits) && !hits[i].Add(24*time.Hour).After(now) {
		i++
	}
	hits = hits[i:]
	if len(hits) >= limit {
		remaining := int(hits[0].Add(24 * time.Hour).Sub(now).Seconds())
		byContact[email] = hits
		return false, obj{"error": fmt.Sprintf("'lead_limiter' rate limit exceeded for 86400 second(s) period for key '%s'", email),
			"max": limit, "usage": len(hits) + 1, "remaining_time": max(remaining, 1)}
	}
	byContact[email] = append(hits, now)
	return true, nil
}

// readJSON decodes a request body into v, answering 415 for another media
// type and 400 for a body that is not JSON. It reports whether to go on.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/json") {
		writeJSON(w, http.StatusUnsupportedMediaType, mktError("UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json"))
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 8<<20))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, mktError("BAD_REQUEST", "The body is not valid JSON: "+err.Error()))
		return false
	}
	return true
}

func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	b, _ := json.Marshal(m)
	var out map[string]any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	_ = dec.Decode(&out)
	return out
}

func copyContact(c MarketingContact) MarketingContact {
	c.Tags = append([]string{}, c.Tags...)
	c.ExtraEmails = append([]string(nil), c.ExtraEmails...)
	c.LegalBases = append([]MarketingLegalBase{}, c.LegalBases...)
	c.Fields = cloneMap(c.Fields)
	return c
}
