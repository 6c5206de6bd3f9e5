package resterp

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// Defaults applied by NewSource to a zero RouteSpec field.
const (
	DefaultPageParam     = "page"
	DefaultPageSizeParam = "pageSize"
	DefaultItemsPath     = "items"
	DefaultHasNextPath   = "hasNext"
	DefaultSinceLayout   = "2006-01-02T15:04:05.000Z07:00"
	DefaultTimeout       = 30 * time.Second
	DefaultRetries       = 3
	DefaultBackoff       = 250 * time.Millisecond
)

// Auth is how requests authenticate: Basic when User is set, bearer when
// Token is set, none when both are empty. Neither secret ever appears in an
// error or a log line.
type Auth struct {
	User, Password string
	Token          string
}

// FieldSpec is one field read into Record.Fields.
type FieldSpec struct {
	// Name is the Record.Fields name (upper-cased), e.g. A1_NOME.
	Name string
	// Path is the dotted JSON path inside an item; empty means Name.
	Path string
	// Kind converts the value like the SQL source does (default char).
	Kind sqlerp.Kind
	// Decimals rounds a KindNumber value.
	Decimals int
}

// RouteSpec configures one JSON route read as an ERP table.
type RouteSpec struct {
	// Name labels the route in errors ("customers"); default Path.
	Name string
	// BaseURL is scheme://host[:port][/prefix], e.g. http://erp:8080/rest.
	// It must not carry credentials: use Auth.
	BaseURL string
	// Path is the list route under BaseURL, e.g. /customers.
	Path string
	// Query holds fixed query parameters sent with every request.
	Query map[string]string
	Auth  Auth
	// Timeout bounds each HTTP request (DefaultTimeout if 0).
	Timeout time.Duration

	// PageParam and PageSizeParam name the paging parameters (page numbers
	// start at FirstPage, default 1). With OffsetParam set, the offset of
	// the first item is sent instead of a page number.
	PageParam, PageSizeParam, OffsetParam string
	FirstPage                             int

	// SinceParam names the since-cursor parameter; empty makes the route
	// full-pass only. SinceLayout formats it (DefaultSinceLayout, UTC).
	SinceParam, SinceLayout string

	// ItemsPath is the dotted path to the item list ("" = the body is the
	// list); HasNextPath the dotted path to the more-pages flag (empty: a
	// full page means there may be more).
	ItemsPath, HasNextPath string

	// KeyFields build Record.Key, in order (values right-trimmed and joined
	// by erp.JoinKey), e.g. A1_FILIAL, A1_COD, A1_LOJA. FilialField names
	// the one that is blank in shared tables: an item whose other key
	// fields are all blank, or any of them null, has no usable key (see
	// erp.Record.SetKey).
	KeyFields   []string
	FilialField string
	// StampField is the item's last-change time; RecnoField its record
	// number; both optional.
	StampField, RecnoField string
	// DeletedField marks soft-deleted items when its right-trimmed value
	// equals DeletedValue (default "*"; "true" matches a JSON true).
	DeletedField, DeletedValue string

	// Fields lists the fields read; nil reads every scalar item property
	// ("all": strings trimmed, numbers as decimals, nested values skipped).
	Fields []FieldSpec

	// KeyParam filters the list route by a Record.Key (?key=|000001|01)
	// for Lookup; LookupPath is the alternative, a path template with {key}
	// (the whole key) or {FIELD} (one key part) placeholders, e.g.
	// /customers/{key}. A 404 there means "not found". Without either,
	// Lookup filters the list route by each key field.
	KeyParam, LookupPath string

	// Overlap is re-read before the last stamp on every poll; zero re-reads
	// nothing (see erp.PollFrom). erpbridge's configuration sets it
	// (erp.overlap, 2 minutes unless changed).
	Overlap time.Duration
	// Retries is how many times a GET is retried after a 5xx, a 429 or a
	// timeout (DefaultRetries if 0, none if negative); Backoff the first
	// wait, doubled each time (DefaultBackoff if 0).
	Retries int
	Backoff time.Duration
}

// withDefaults validates the spec and fills in defaults.
func (s RouteSpec) withDefaults() (RouteSpec, error) {
	var errs []error
	u, err := url.Parse(s.BaseURL)
	switch {
	case err != nil: // url's error repeats the URL, credentials included
		errs = append(errs, errors.New("base URL: not a valid URL"))
	case u.Scheme != "http" && u.Scheme != "https":
		errs = append(errs, errors.New("base URL: want http:// or https://"))
	case u.User != nil:
		errs = append(errs, errors.New("base URL: credentials belong in auth, not in the URL"))
	}
	if s.Path == "" {
		errs = append(errs, errors.New("no path"))
	}
	if len(s.KeyFields) == 0 {
		errs = append(errs, errors.New("no key fields"))
	}
	if s.Auth.Token != "" && s.Auth.User != "" {
		errs = append(errs, errors.New("auth: set a user or a token, not both"))
	}
	for _, f := range s.Fields {
		switch f.Kind {
		case "", sqlerp.KindChar, sqlerp.KindDate, sqlerp.KindNumber, sqlerp.KindInt, sqlerp.KindMemo, sqlerp.KindBool:
		default:
			errs = append(errs, fmt.Errorf("field %s: unknown kind %q", f.Name, f.Kind))
		}
	}
	if s.Name == "" {
		s.Name = s.Path
	}
	if err := errors.Join(errs...); err != nil {
		return s, fmt.Errorf("validating route %s: %w", s.Name, err)
	}
	s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	if !strings.HasPrefix(s.Path, "/") {
		s.Path = "/" + s.Path
	}
	if s.PageParam == "" && s.OffsetParam == "" {
		s.PageParam = DefaultPageParam
	}
	if s.PageSizeParam == "" {
		s.PageSizeParam = DefaultPageSizeParam
	}
	if s.FirstPage == 0 && s.OffsetParam == "" {
		s.FirstPage = 1
	}
	if s.SinceLayout == "" {
		s.SinceLayout = DefaultSinceLayout
	}
	if s.DeletedValue == "" {
		s.DeletedValue = "*"
	}
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	if s.Retries == 0 {
		s.Retries = DefaultRetries
	}
	if s.Backoff <= 0 {
		s.Backoff = DefaultBackoff
	}
	keys := make([]string, len(s.KeyFields))
	for i, k := range s.KeyFields {
		keys[i] = strings.ToUpper(k)
	}
	s.KeyFields = keys
	if s.Fields == nil {
		return s, nil // "all"
	}
	// Key fields not listed are read as char, like sqlerp does.
	fields := make([]FieldSpec, 0, len(s.Fields)+len(keys))
	seen := map[string]bool{}
	for _, f := range s.Fields {
		f.Name = strings.ToUpper(f.Name)
		if f.Path == "" {
			f.Path = f.Name
		}
		if f.Kind == "" {
			f.Kind = sqlerp.KindChar
		}
		seen[f.Name] = true
		fields = append(fields, f)
	}
	for _, k := range keys {
		if !seen[k] {
			fields = append(fields, FieldSpec{Name: k, Path: k, Kind: sqlerp.KindChar})
		}
	}
	s.Fields = fields
	return s, nil
}
