package access

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/resterp"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/mapping"
)

// REST configures reading the ERP through its custom REST routes
// (erp.source = "rest"): paged JSON lists of Protheus rows, as
// docs/protheus.md describes and erp/protheus/restsim serves.
type REST struct {
	// BaseURL is scheme://host[:port][/prefix], e.g.
	// http://erp-appserver:8080/rest. No credentials in it.
	BaseURL string `toml:"base_url"`
	// User and Password authenticate with Basic, Token with bearer; not both.
	User     string `toml:"user"`
	Password string `toml:"password"`
	Token    string `toml:"token"`
	// Timeout bounds one request.
	Timeout component.Duration `toml:"timeout"`
	// PageParam and PageSizeParam name the paging parameters (pages start
	// at 1); SinceParam the since-cursor one (empty: full passes only);
	// KeyParam the one-record filter (?key=filial|code|…; empty: the key
	// fields are sent as filters).
	PageParam     string `toml:"page_param"`
	PageSizeParam string `toml:"page_size_param"`
	SinceParam    string `toml:"since_param"`
	KeyParam      string `toml:"key_param"`
	// ItemsPath is the dotted path of the item list in an answer (empty:
	// the answer is the list); HasNextPath the more-pages flag (empty: a
	// full page means more may follow).
	ItemsPath   string `toml:"items_path"`
	HasNextPath string `toml:"has_next_path"`
	// Routes are the list routes under BaseURL by key (customers,
	// order_items …): each stream names the routes of the tables it reads
	// and their default paths (component.Table).
	Routes map[string]string `toml:"routes"`
}

// RoutePath returns the path of a table's route: the file's, else the
// stream's default.
func (r REST) RoutePath(t component.Table) string {
	if p, ok := r.Routes[t.Route]; ok {
		return p
	}
	return t.RouteDefault
}

// validateSource checks erp.source and, for "rest", [erp.rest] and the
// routes the enabled streams read.
func (c *Config) validateSource(v *component.Validation) {
	known := component.DeclaredRoutes()
	for _, key := range slices.Sorted(mapsKeys(c.REST.Routes)) {
		if _, ok := known[key]; !ok {
			v.Bad("rest.routes."+key, "unknown route (the routes are %s)", strings.Join(slices.Sorted(mapsKeys(known)), ", "))
		}
	}
	switch c.Source {
	case SourceSQL:
		return
	case SourceREST:
	default:
		v.Bad("source", "%q is not one of sql, rest", c.Source)
		return
	}
	r := c.REST
	if u, err := url.Parse(r.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.Bad("rest.base_url", "is not an http(s) URL such as \"http://erp-appserver:8080/rest\"")
	} else if u.User != nil {
		v.Bad("rest.base_url", "must not carry credentials; use user and password, or token")
	} else if u.RawQuery != "" || u.Fragment != "" {
		v.Bad("rest.base_url", "must not carry a query string or fragment")
	}
	if r.User != "" && r.Token != "" {
		v.Bad("rest", "set user and password, or token, not both")
	}
	if r.Password != "" && r.User == "" {
		v.Bad("rest.password", "needs erp.rest.user")
	}
	if r.Timeout.D() <= 0 {
		v.Bad("rest.timeout", "must be positive")
	}
	for _, kv := range [][2]string{
		{"page_param", r.PageParam}, {"page_size_param", r.PageSizeParam}, {"since_param", r.SinceParam}, {"key_param", r.KeyParam},
	} {
		if kv[1] == "" && (kv[0] == "page_param" || kv[0] == "page_size_param") {
			v.Bad("rest."+kv[0], "is required")
		} else if strings.ContainsAny(kv[1], " &=?#/") {
			v.Bad("rest."+kv[0], "%q is not a query parameter name", kv[1])
		}
	}
	for _, key := range slices.Sorted(mapsKeys(r.Routes)) {
		if _, ok := known[key]; !ok {
			continue
		}
		if p := r.Routes[key]; p != "" && (!strings.HasPrefix(p, "/") || strings.ContainsAny(p, " ?#")) {
			v.Bad("rest.routes."+key, "%q is not a route path such as \"/customers\" (under base_url, no query)", p)
		}
	}
	seen := map[string]bool{}
	v.Each(func(name string, cfg component.Config) {
		tr, ok := cfg.(component.TableReader)
		if !ok || !cfg.Enabled() {
			return
		}
		tables, err := tr.Tables(c.Company, v.Config)
		if err != nil {
			return // the stream's own validation names it
		}
		for _, t := range tables {
			if t.Optional || t.Route == "" || seen[t.Route] {
				continue
			}
			seen[t.Route] = true
			if r.RoutePath(t) == "" {
				v.Bad("rest.routes."+t.Route, "is required by the enabled streams (%s reads it)", name)
			}
		}
	})
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// restERP reads the ERP's tables through its custom REST routes
// ([erp.rest]): each table a stream would read over SQL becomes a
// resterp.Source over the table's route, reading the same columns with the
// same kinds, so mappings and fingerprints see the values the SQL source
// would give.
type restERP struct {
	cfg *Config
}

// open is Access.Open for routes: with a mapping, the columns it reads are
// added to the table's (but for those the stream provides), typed from the
// Protheus dictionary, else from the route's first item.
func (r *restERP) open(ctx context.Context, t component.Table, m *mapping.Mapping) (erp.Source, error) {
	if m != nil {
		cols := slices.DeleteFunc(m.Columns(), func(c string) bool { return slices.Contains(t.Provided, c) })
		t.Spec = onlyColumns(t.Spec, append(slices.Clone(cols), t.Extra...))
		cat, err := r.catalog(ctx, t, cols)
		if err != nil {
			return nil, err
		}
		if t.Spec, err = withMappedColumns(cat, t.Spec, aliasOf(t.Spec), cols); err != nil {
			return nil, fmt.Errorf("streams.%s.mapping: %w", t.Role, err)
		}
	}
	rs, ok, err := r.route(t)
	if err != nil || !ok {
		return nil, err // !ok: an optional table left without a route (sellers)
	}
	src, err := resterp.NewSource(rs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Role, err)
	}
	return src, nil
}

// route builds the resterp spec of a table's route. ok is false when the
// table may go without one and erp.rest.routes leaves it empty (sellers).
func (r *restERP) route(t component.Table) (resterp.RouteSpec, bool, error) {
	rc := r.cfg.REST
	spec := t.Spec
	path := rc.RoutePath(t)
	switch {
	case t.Route == "":
		return resterp.RouteSpec{}, false, fmt.Errorf("%s: no erp.rest.routes key serves table %s", t.Role, aliasOf(spec))
	case path == "" && t.Optional:
		return resterp.RouteSpec{}, false, nil
	case path == "":
		return resterp.RouteSpec{}, false, fmt.Errorf("%s: erp.rest.routes.%s is empty", t.Role, t.Route)
	}
	fields := make([]resterp.FieldSpec, len(spec.Columns))
	for i, c := range spec.Columns {
		fields[i] = resterp.FieldSpec{Name: c.Name, Kind: c.Kind, Decimals: c.Decimals}
	}
	var query map[string]string
	if spec.FilialColumn != "" {
		// The route answers the stream's filial only, as the SQL source reads it.
		query = map[string]string{spec.FilialColumn: strings.TrimRight(spec.Filial, " ")}
	}
	return resterp.RouteSpec{
		Name:    t.Role,
		BaseURL: rc.BaseURL, Path: path, Query: query,
		Auth:          resterp.Auth{User: rc.User, Password: rc.Password, Token: rc.Token},
		Timeout:       rc.Timeout.D(),
		PageParam:     rc.PageParam,
		PageSizeParam: rc.PageSizeParam,
		SinceParam:    rc.SinceParam,
		ItemsPath:     rc.ItemsPath,
		HasNextPath:   rc.HasNextPath,
		KeyFields:     spec.KeyColumns,
		FilialField:   spec.FilialColumn,
		StampField:    spec.StampColumn,
		RecnoField:    spec.RecnoColumn,
		DeletedField:  spec.DeletedColumn,
		Fields:        fields,
		KeyParam:      rc.KeyParam,
		Overlap:       r.cfg.Overlap.D(),
	}, true, nil
}

// sample reads the first item of a table's route (page 1 of one item) with
// every scalar field it carries; ok is false when the route is empty.
func (r *restERP) sample(ctx context.Context, t component.Table) (rec erp.Record, ok bool, err error) {
	rs, has, err := r.route(t)
	if err != nil || !has {
		return erp.Record{}, false, err
	}
	rs.Fields = nil // every field, typed by its JSON value
	src, err := resterp.NewSource(rs)
	if err != nil {
		return erp.Record{}, false, fmt.Errorf("%s: %w", t.Role, err)
	}
	defer src.Close()
	for page, err := range src.FullPass(ctx, "", 1) {
		if err != nil {
			return erp.Record{}, false, err
		}
		if len(page.Records) > 0 {
			return page.Records[0], true, nil
		}
		break
	}
	return erp.Record{}, false, nil
}

// columns reports which fields a table's route serves: those its first
// item has (none for an empty route).
func (r *restERP) columns(ctx context.Context, t component.Table) (func(string) bool, error) {
	rec, ok, err := r.sample(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("reading the fields of the %s route: %w", aliasOf(t.Spec), err)
	}
	return func(column string) bool {
		_, has := rec.Fields[strings.ToUpper(column)]
		return ok && has
	}, nil
}

// catalog describes a route's fields the way sqlerp.ReadCatalog describes
// a table's columns, from its first item: numbers NUMERIC, the rest
// VARCHAR. An empty route cannot tell: every column asked for is taken as
// present (dictionary fields keep their type, others are read as text).
func (r *restERP) catalog(ctx context.Context, t component.Table, cols []string) ([]sqlerp.CatalogColumn, error) {
	rec, ok, err := r.sample(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("%s: reading the route's first item: %w", t.Role, err)
	}
	var cat []sqlerp.CatalogColumn
	if !ok {
		for _, c := range cols {
			cat = append(cat, sqlerp.CatalogColumn{Name: strings.ToUpper(c), DataType: "VARCHAR"})
		}
		return cat, nil
	}
	for name, v := range rec.Fields {
		dt := "VARCHAR"
		if _, isNumber := v.(decimal.Decimal); isNumber {
			dt = "NUMERIC"
		}
		cat = append(cat, sqlerp.CatalogColumn{Name: name, DataType: dt})
	}
	return cat, nil
}

// aliasOf returns a table spec's Protheus alias (SA1 of SA1010).
func aliasOf(spec sqlerp.TableSpec) string {
	if len(spec.Physical) < 3 {
		return spec.Physical
	}
	return strings.ToUpper(spec.Physical[:3])
}

// RESTRoute is one ERP route a configuration with erp.source = "rest" reads.
type RESTRoute struct {
	Table component.Table
	Route resterp.RouteSpec
}

// Routes lists the routes of tables, one per route and filial, in order;
// an optional table whose route is left empty is not listed.
func (a *Access) Routes(tables []component.Table) ([]RESTRoute, error) {
	if a.rest == nil {
		return nil, nil
	}
	var out []RESTRoute
	seen := map[string]bool{}
	for _, t := range tables {
		if t.Without != "" {
			continue // a table the stream goes without is not read through routes
		}
		rs, ok, err := a.rest.route(t)
		if err != nil {
			return nil, err
		}
		id := rs.Path + "?" + fmt.Sprint(rs.Query)
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, RESTRoute{Table: t, Route: rs})
	}
	return out, nil
}

// RouteProbe is what one GET of a route's first page found.
type RouteProbe struct {
	// Request is the path and query sent (no host, no credentials).
	Request string
	// Status is the HTTP status; 0 when no answer came.
	Status int
	// Items is the number of items on the page.
	Items int
	// Fields are the fields of the first item, upper-cased.
	Fields []string
	// Missing are the fields the bridge reads that the first item lacks.
	Missing []string
	// Err says why the answer is unusable (a transport error, a non-2xx
	// status, a body without the item list).
	Err error
}

// ProbeRoute sends one GET of page 1 of a route, without retries, as
// `erpbridge check` does.
func ProbeRoute(ctx context.Context, rs resterp.RouteSpec, pageSize int) RouteProbe {
	q := url.Values{}
	for k, v := range rs.Query {
		q.Set(k, v)
	}
	q.Set(cmp.Or(rs.PageParam, resterp.DefaultPageParam), "1")
	q.Set(cmp.Or(rs.PageSizeParam, resterp.DefaultPageSizeParam), strconv.Itoa(pageSize))
	p := RouteProbe{Request: rs.Path + "?" + q.Encode()}
	timeout := rs.Timeout
	if timeout <= 0 {
		timeout = resterp.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(rs.BaseURL, "/")+p.Request, nil)
	if err != nil {
		p.Err = errors.New("building the request: base URL or path is not valid")
		return p
	}
	req.Header.Set("Accept", "application/json")
	switch a := rs.Auth; {
	case a.Token != "":
		req.Header.Set("Authorization", "Bearer "+a.Token)
	case a.User != "":
		req.SetBasicAuth(a.User, a.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL
		}
		p.Err = fmt.Errorf("sending GET %s: %w", rs.Path, err)
		return p
	}
	defer resp.Body.Close()
	p.Status = resp.StatusCode
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		p.Err = fmt.Errorf("reading the answer: %w", err)
		return p
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		p.Err = fmt.Errorf("status %d: %s", resp.StatusCode, redact(snippetOf(body), rs.Auth))
		return p
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		p.Err = fmt.Errorf("decoding the answer: %w", err)
		return p
	}
	list, ok := walk(v, rs.ItemsPath)
	items, isList := list.([]any)
	if !ok || (!isList && list != nil) {
		p.Err = fmt.Errorf("the answer has no item list at %q", rs.ItemsPath)
		return p
	}
	p.Items = len(items)
	if len(items) == 0 {
		return p
	}
	first, _ := items[0].(map[string]any)
	have := map[string]bool{}
	for k := range first {
		have[strings.ToUpper(k)] = true
		p.Fields = append(p.Fields, strings.ToUpper(k))
	}
	slices.Sort(p.Fields)
	want := slices.Clone(rs.KeyFields)
	for _, f := range rs.Fields {
		want = append(want, f.Name)
	}
	want = append(want, rs.StampField, rs.RecnoField, rs.DeletedField)
	for _, f := range want {
		if f = strings.ToUpper(f); f != "" && !have[f] && !slices.Contains(p.Missing, f) {
			p.Missing = append(p.Missing, f)
		}
	}
	return p
}

// walk follows a dotted path of object keys through decoded JSON.
func walk(v any, path string) (any, bool) {
	if path == "" {
		return v, true
	}
	for part := range strings.SplitSeq(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[part]; !ok {
			return nil, false
		}
	}
	return v, true
}

func snippetOf(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// redact removes the route's secrets from text the ERP echoed back.
func redact(s string, a resterp.Auth) string {
	for _, secret := range []string{a.Password, a.Token} {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	return s
}
