package wiring

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

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/config"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/resterp"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/mapping"
)

// restERP reads the ERP's tables through its custom REST routes
// ([erp.rest]): each table a stream would read over SQL becomes a
// resterp.Source over the table's route, reading the same columns with the
// same kinds, so mappings and fingerprints see the values the SQL source
// would give.
type restERP struct {
	cfg *config.Config
}

// openREST returns the erpAccess of erp.source = "rest". It sends nothing:
// routes are first read when a stream opens its table.
func openREST(ctx context.Context, cfg *config.Config) erpAccess {
	r := &restERP{cfg: cfg}
	return erpAccess{source: r.sourceFunc(ctx), columns: r.columns}
}

// sourceFunc is newSourceFunc for routes: with a mapping, the columns it
// reads are added to the table's (but for those the stream's mapper
// provides), typed from the Protheus dictionary, else from the route's
// first item.
func (r *restERP) sourceFunc(ctx context.Context) sourceFunc {
	return func(what string, spec sqlerp.TableSpec, err error, m *mapping.Mapping, provided ...string) (erp.Source, error) {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if m != nil {
			cols := slices.DeleteFunc(m.Columns(), func(c string) bool { return slices.Contains(provided, c) })
			spec = onlyColumns(spec, append(slices.Clone(cols), mapperColumns[what]...))
			cat, err := r.catalog(ctx, what, spec, cols)
			if err != nil {
				return nil, err
			}
			if spec, err = withMappedColumns(cat, spec, aliasOf(spec), cols); err != nil {
				return nil, fmt.Errorf("streams.%s.mapping: %w", what, err)
			}
		}
		rs, ok, err := r.route(what, spec)
		if err != nil || !ok {
			return nil, err // !ok: a table left without a route (sellers)
		}
		src, err := resterp.NewSource(rs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return src, nil
	}
}

// route builds the resterp spec of a table's route. ok is false when the
// table may go without one and erp.rest.routes leaves it out (sellers).
func (r *restERP) route(what string, spec sqlerp.TableSpec) (resterp.RouteSpec, bool, error) {
	rc := r.cfg.ERP.REST
	alias := aliasOf(spec)
	path, key, known := rc.Routes.ForAlias(alias)
	switch {
	case !known:
		return resterp.RouteSpec{}, false, fmt.Errorf("%s: no erp.rest.routes key serves table %s", what, alias)
	case path == "" && alias == "SA3":
		return resterp.RouteSpec{}, false, nil
	case path == "":
		return resterp.RouteSpec{}, false, fmt.Errorf("%s: erp.rest.routes.%s is empty", what, key)
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
		Name:    what,
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
		Overlap:       r.cfg.ERP.Overlap.D(),
	}, true, nil
}

// sample reads the first item of a table's route (page 1 of one item) with
// every scalar field it carries; ok is false when the route is empty.
func (r *restERP) sample(ctx context.Context, what string, spec sqlerp.TableSpec) (rec erp.Record, ok bool, err error) {
	rs, has, err := r.route(what, spec)
	if err != nil || !has {
		return erp.Record{}, false, err
	}
	rs.Fields = nil // every field, typed by its JSON value
	src, err := resterp.NewSource(rs)
	if err != nil {
		return erp.Record{}, false, fmt.Errorf("%s: %w", what, err)
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
func (r *restERP) columns(ctx context.Context, spec sqlerp.TableSpec) (func(string) bool, error) {
	rec, ok, err := r.sample(ctx, spec.Physical, spec)
	if err != nil {
		return nil, fmt.Errorf("reading the fields of the %s route: %w", aliasOf(spec), err)
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
func (r *restERP) catalog(ctx context.Context, what string, spec sqlerp.TableSpec, cols []string) ([]sqlerp.CatalogColumn, error) {
	rec, ok, err := r.sample(ctx, what, spec)
	if err != nil {
		return nil, fmt.Errorf("%s: reading the route's first item: %w", what, err)
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
	Role  string           // e.g. "customers", "contact links"
	Table sqlerp.TableSpec // the table the route serves, as Tables lists it
	Route resterp.RouteSpec
	// Optional are fields the stream goes without (Table.Optional).
	Optional []string
}

// RESTRoutes lists the routes the enabled streams read, one per route and
// filial, in Tables order (the customers route for orders alone too). A
// sellers route left out of erp.rest.routes is not listed.
func RESTRoutes(cfg *config.Config) ([]RESTRoute, error) {
	tables, err := Tables(cfg)
	if err != nil {
		return nil, err
	}
	if s := cfg.Streams; s.Orders.Enabled && !s.Customers.Enabled {
		spec, err := protheus.Customers(cfg.ERP.Company, s.Customers.Filial)
		if err != nil {
			return nil, fmt.Errorf("order customers: %w", err)
		}
		tables = append(tables, Table{Role: "order customers", Spec: spec})
	}
	r := &restERP{cfg: cfg}
	var out []RESTRoute
	seen := map[string]bool{}
	for _, t := range tables {
		if t.Without != "" {
			continue // a table the stream goes without is not read through routes
		}
		rs, ok, err := r.route(t.Role, t.Spec)
		if err != nil {
			return nil, err
		}
		id := rs.Path + "?" + fmt.Sprint(rs.Query)
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, RESTRoute{Role: t.Role, Table: t.Spec, Route: rs, Optional: t.Optional})
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
