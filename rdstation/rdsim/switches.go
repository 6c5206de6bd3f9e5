package rdsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Switches select the behaviours docs/rdstation-api.md marks [U]
// (unconfirmed). The zero value of every field is the documented or most
// common behaviour, so Switches{} is the default.
type Switches struct {
	// RetryAfterHeader sends a Retry-After header (whole seconds) with every
	// 429. [U] "v1 429 headers": v1 documents none, so the default is off.
	RetryAfterHeader bool `json:"retry_after_header,omitempty"`
	// RateWindow is "sliding" (default, also "") or "fixed" (counter reset at
	// each wall-clock minute). [U] the shape of the 120/min window.
	RateWindow string `json:"rate_window,omitempty"`
	// CreateStatus is the status of a successful POST of organizations,
	// contacts, products and deals: 200 (default, also 0) or 201.
	// [U] "201 vs 200 on creates".
	CreateStatus int `json:"create_status,omitempty"`
	// DeleteStatus is the status of DELETE deal product / custom field:
	// 204 with no body (default, also 0) or 200 with the deleted record.
	// [U] "DELETE responses".
	DeleteStatus int `json:"delete_status,omitempty"`
	// StrictBodies rejects bodies in the shape the docs do not show: an
	// unwrapped body where the docs wrap it (400 "param is missing"), and a
	// wrapped one where the docs send it unwrapped (its fields are not read).
	// Default lenient: accept both, as the docs send products both ways.
	StrictBodies bool `json:"strict_bodies,omitempty"`
	// NextPageBypassesCap lets the deals next_page cursor reach past the
	// 10,000th record. [U] "whether next_page bypasses the 10k cap".
	NextPageBypassesCap bool `json:"next_page_bypasses_cap,omitempty"`
	// OmitOrganizationInDealReads leaves organization{} out of GET /deals and
	// GET /deals/{id} (create/update responses always carry it).
	// [U] "organization in list/GET deal responses"; default emits it.
	OmitOrganizationInDealReads bool `json:"omit_organization_in_deal_reads,omitempty"`
	// WinKeepsClosedAtNull stops win:true / win:false from stamping
	// closed_at. The brief's WinSetsClosedAt=true is this switch's zero
	// value. [U] "side effects of win (closed_at)".
	WinKeepsClosedAtNull bool `json:"win_keeps_closed_at_null,omitempty"`
	// WinMovesToLastStage moves a won deal to the last stage of its
	// pipeline. [U] "side effects of win (stage)"; default leaves the stage.
	WinMovesToLastStage bool `json:"win_moves_to_last_stage,omitempty"`
	// LostReasonRequired makes win:false without deal_lost_reason_id a 422.
	// [U] "whether a lost reason is mandatory"; default optional.
	LostReasonRequired bool `json:"lost_reason_required,omitempty"`
	// ContactNamesUnique enforces unique contact names per account like
	// organizations. [U] "the docs' claim that contact names are unique".
	ContactNamesUnique bool `json:"contact_names_unique,omitempty"`
	// DuplicateNameBody picks the 422 body for a duplicate name
	// [U "the duplicate-name error body"]:
	//   "" or "field": {"errors":{"name":["has already been taken"]}}
	//   "typed":       {"errors":{"name":[{"error_type":"ALREADY_TAKEN","error_message":"has already been taken"}]}}
	//   "flat":        {"errors":{"error_type":"ALREADY_TAKEN","error_message":"Name has already been taken"}}
	DuplicateNameBody string `json:"duplicate_name_body,omitempty"`
	// LimitOverMaxIs422 answers limit>max with 422 instead of clamping it
	// to the maximum (200; 12 for deal_stages). Default clamps.
	LimitOverMaxIs422 bool `json:"limit_over_max_is_422,omitempty"`
	// ProductVisibleReadOnly ignores `visible` in product PUT bodies.
	// [U] "visible settable via PUT"; default settable.
	ProductVisibleReadOnly bool `json:"product_visible_read_only,omitempty"`
	// BasePriceAsString renders products' base_price as a JSON string
	// ("15.44"), as one doc sample does; default a JSON number.
	BasePriceAsString bool `json:"base_price_as_string,omitempty"`
	// TokenCheckShape picks GET /token/check's body [U "/token/check shape"]:
	//   "" : {"name","email","organization":{"_id","id","name"},"user":{…}}
	//   "flat": {"name","email","organization":"<account name>"}
	TokenCheckShape string `json:"token_check_shape,omitempty"`
	// StrictDealOrder answers an unknown deals `order` with 422 instead of
	// falling back to created_at. [U] "accepted order values for deals".
	StrictDealOrder bool `json:"strict_deal_order,omitempty"`
	// NoteCreateStatus is the status of a successful POST /activities (a
	// deal note): 200 (default, also 0) or 201. [U] activities are not in
	// docs/rdstation-api.md; their create status is unconfirmed.
	NoteCreateStatus int `json:"note_create_status,omitempty"`
	// CopyToPipelineAsObject renders a pipeline's
	// config.deal_won.copy_to_pipeline as {"id","name"} instead of the
	// pipeline's id. [U] "copy_to_pipeline": the docs give the key only.
	CopyToPipelineAsObject bool `json:"copy_to_pipeline_as_object,omitempty"`
	// WonCopyIsWon makes the copy a pipeline's copy_to_pipeline makes of a
	// won deal won too (closed now), instead of open in the target's first
	// stage. [U] "copy_to_pipeline": what the copy is.
	WonCopyIsWon bool `json:"won_copy_is_won,omitempty"`
	// DealProductAmounts is what the CRM does with a deal product amount
	// that is not a whole number. [U] docs/rdstation-api.md documents
	// `amount` as an int on input while GET returns `amount_decimal` too;
	// what a decimal amount becomes is unconfirmed:
	//   "" or "decimal": kept as sent (amount and amount_decimal read it back)
	//   "truncate": cut to its whole part without a word (2.375 → 2; 0.5 →
	//               0, then refused as not greater than 0), as an integer
	//               column casts it
	//   "reject":   422 MUST_BE_INTEGER on the amount
	// Totals are price × amount − discount of what was kept, either way.
	DealProductAmounts string `json:"deal_product_amounts,omitempty"`
}

// Deal product amount behaviours (Switches.DealProductAmounts).
const (
	AmountsDecimal  = "decimal"
	AmountsTruncate = "truncate"
	AmountsReject   = "reject"
)

// FaultKind is one injected fault.
type FaultKind int

// Fault kinds. JSON spells them as the lower-case names after "Fault"
// ("none", "rate_limited", "server_error", "slow", "drop", "lost_response").
const (
	// FaultNone serves the request normally.
	FaultNone FaultKind = iota
	// FaultRateLimited answers 429 with the documented body without
	// touching the real window.
	FaultRateLimited
	// FaultServerError answers 500 with an HTML page; nothing is applied.
	FaultServerError
	// FaultSlow delays the request by Faults.SlowDelay on Options.Clock,
	// then serves it normally.
	FaultSlow
	// FaultDrop closes the connection before anything is applied.
	FaultDrop
	// FaultLostResponse applies the request, then closes the connection
	// without sending the response.
	FaultLostResponse
)

var faultNames = []string{"none", "rate_limited", "server_error", "slow", "drop", "lost_response"}

// String returns the JSON name of the fault.
func (k FaultKind) String() string {
	if k >= 0 && int(k) < len(faultNames) {
		return faultNames[k]
	}
	return fmt.Sprintf("fault(%d)", int(k))
}

// MarshalJSON writes the fault's name.
func (k FaultKind) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }

// UnmarshalJSON reads a fault name (or its number).
func (k *FaultKind) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		if n < 0 || n >= len(faultNames) {
			return fmt.Errorf("decoding fault kind: %d out of range", n)
		}
		*k = FaultKind(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decoding fault kind: %w", err)
	}
	i := slices.Index(faultNames, strings.ToLower(strings.TrimPrefix(s, "Fault")))
	if i < 0 {
		return fmt.Errorf("decoding fault kind: unknown %q", s)
	}
	*k = FaultKind(i)
	return nil
}

// DefaultSlowDelay is the delay of a Slow fault when Faults.SlowDelay is 0.
const DefaultSlowDelay = 2 * time.Second

// Faults injects failures into matching /api/v1 requests (authenticated
// ones: a 401 is never faulted). Script entries are consumed first, one per
// matching request; then one draw from the seeded RNG picks a kind with the
// given probabilities, checked in field order.
type Faults struct {
	RateLimited  float64 `json:"rate_limited,omitempty"`
	ServerError  float64 `json:"server_error,omitempty"`
	Slow         float64 `json:"slow,omitempty"`
	Drop         float64 `json:"drop,omitempty"`
	LostResponse float64 `json:"lost_response,omitempty"`
	// SlowDelay is how long a Slow request waits (Options.Clock.Sleep);
	// JSON takes "2s"-style strings or nanoseconds. Default DefaultSlowDelay.
	SlowDelay time.Duration `json:"-"`
	// Methods limits faults to these HTTP methods; empty means all.
	Methods []string `json:"methods,omitempty"`
	// PathPrefix limits faults to paths with this prefix, given with or
	// without the leading "/api/v1"; empty means all.
	PathPrefix string `json:"path_prefix,omitempty"`
	// Script: the next matching requests take these faults in order.
	Script []FaultKind `json:"script,omitempty"`
}

type faultsJSON Faults

// MarshalJSON writes SlowDelay as a duration string.
func (f Faults) MarshalJSON() ([]byte, error) {
	type out struct {
		faultsJSON
		SlowDelay string `json:"slow_delay,omitempty"`
	}
	o := out{faultsJSON: faultsJSON(f)}
	if f.SlowDelay > 0 {
		o.SlowDelay = f.SlowDelay.String()
	}
	return json.Marshal(o)
}

// UnmarshalJSON reads SlowDelay as "1.5s" or as integer nanoseconds.
func (f *Faults) UnmarshalJSON(b []byte) error {
	type in struct {
		faultsJSON
		SlowDelay json.RawMessage `json:"slow_delay"`
	}
	var v in
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("decoding faults: %w", err)
	}
	*f = Faults(v.faultsJSON)
	if len(v.SlowDelay) == 0 || string(v.SlowDelay) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(v.SlowDelay, &s); err == nil {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("decoding faults slow_delay: %w", err)
		}
		f.SlowDelay = d
		return nil
	}
	var n int64
	if err := json.Unmarshal(v.SlowDelay, &n); err != nil {
		return fmt.Errorf("decoding faults slow_delay: %w", err)
	}
	f.SlowDelay = time.Duration(n)
	return nil
}

func (f *Faults) matches(r *http.Request) bool {
	if len(f.Methods) > 0 && !slices.ContainsFunc(f.Methods, func(m string) bool { return strings.EqualFold(m, r.Method) }) {
		return false
	}
	if f.PathPrefix == "" {
		return true
	}
	return strings.HasPrefix(r.URL.Path, f.PathPrefix) || strings.HasPrefix(r.URL.Path, "/api/v1"+f.PathPrefix)
}

// drawFault picks the fault for one request: the script first, then the
// seeded fractions.
func (s *Sim) drawFault(r *http.Request) FaultKind {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	f := &s.faults
	if !f.matches(r) {
		return FaultNone
	}
	if len(f.Script) > 0 {
		k := f.Script[0]
		f.Script = f.Script[1:]
		return k
	}
	sum := f.RateLimited + f.ServerError + f.Slow + f.Drop + f.LostResponse
	if sum <= 0 {
		return FaultNone
	}
	x := s.faultRNG.Float64()
	for i, p := range []float64{f.RateLimited, f.ServerError, f.Slow, f.Drop, f.LostResponse} {
		if x < p {
			return FaultKind(i + 1)
		}
		x -= p
	}
	return FaultNone
}
