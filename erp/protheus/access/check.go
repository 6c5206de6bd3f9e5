package access

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

var (
	_ component.Checker   = (*Config)(nil)
	_ component.Describer = (*Config)(nil)
)

// checkPageSize is the page of each route `erpbridge check` reads.
const checkPageSize = 20

// Describe implements component.Describer: the heading of the ERP's part
// of `erpbridge check`.
func (c *Config) Describe() string {
	if c.Source == SourceREST {
		return fmt.Sprintf("ERP REST routes %s (company %s)", c.REST.BaseURL, c.Company)
	}
	return fmt.Sprintf("ERP %s (company %s)", c.Driver, c.Company)
}

// tables lists the tables of the enabled streams (env's settings).
func tables(env *component.Env, company string) ([]component.Table, error) {
	var out []component.Table
	for _, comp := range component.Streams() {
		s, ok := env.Config(comp.Name())
		if !ok || !s.Enabled() {
			continue
		}
		if tr, ok := s.(component.TableReader); ok {
			ts, err := tr.Tables(company, env.Config)
			if err != nil {
				return nil, err
			}
			out = append(out, ts...)
		}
	}
	return out, nil
}

// Check implements component.Checker: every table the enabled streams read
// exists with the columns they read (and their mappings'), and whether it
// has S_T_A_M_P_; through REST routes, one GET of page 1 of each route.
func (c *Config) Check(ctx context.Context, env *component.Env) []component.Finding {
	var out []component.Finding
	fail := func(format string, args ...any) {
		out = append(out, component.Finding{Problem: true, Text: fmt.Sprintf(format, args...)})
	}
	a, ok := env.ERP.(*Access)
	if !ok {
		fail("the ERP is not opened")
		return out
	}
	ts, err := tables(env, c.Company)
	if err != nil {
		fail("%v", err)
		return out
	}
	if a.rest != nil {
		return a.checkRoutes(ctx, ts)
	}
	if err := a.db.PingContext(ctx); err != nil {
		fail("connecting to the ERP database: %v", err)
		return out
	}
	for _, t := range ts {
		rep, err := sqlerp.Check(ctx, a.db, a.dialect, t.Spec)
		optional := optionalColumns(t)
		var lacks []string // missing columns the stream goes without
		if err == nil {
			rep.Missing = slices.DeleteFunc(rep.Missing, func(col string) bool {
				if slices.Contains(optional, col) {
					lacks = append(lacks, col)
					return true
				}
				return false
			})
		}
		switch {
		case err != nil:
			fail("%s table %s: %v", t.Role, t.Spec.Physical, err)
		case !rep.Exists && t.Without != "":
			out = append(out, component.Finding{Warn: true, Text: fmt.Sprintf("%s table %s does not exist (or the user cannot read it): %s", t.Role, rep.Table, t.Without)})
		case !rep.Exists:
			fail("%s table %s does not exist (or the user cannot read it)", t.Role, rep.Table)
		case len(rep.Missing) > 0 && t.Without != "":
			out = append(out, component.Finding{Warn: true, Text: fmt.Sprintf("%s table %s lacks columns %s: %s", t.Role, rep.Table, strings.Join(rep.Missing, ", "), t.Without)})
		case len(rep.Missing) > 0:
			fail("%s table %s lacks columns %s", t.Role, rep.Table, strings.Join(rep.Missing, ", "))
		default:
			stamp := "incremental (S_T_A_M_P_)"
			if !rep.HasStamp {
				stamp = "no S_T_A_M_P_: synced by full passes only (see docs/protheus.md to enable it)"
			}
			out = append(out, component.Finding{Text: fmt.Sprintf("%-14s %-8s %d columns, %s", t.Role, rep.Table, len(t.Spec.Columns), stamp)})
		}
		if len(lacks) > 0 {
			out = append(out, component.Finding{Warn: true, Text: fmt.Sprintf("%s table %s lacks %s: read with their defaults (docs/protheus.md, optional order fields)",
				t.Role, rep.Table, strings.Join(lacks, ", "))})
		}
		if t.Mapping != nil && rep.Exists {
			cat, err := sqlerp.ReadCatalog(ctx, a.db, a.dialect, t.Spec.Physical)
			if err == nil {
				err = MappingColumns(cat, t, *t.Mapping)
			}
			if err != nil {
				fail("streams.%s.mapping: %v", t.Role, err)
			}
		}
	}
	return out
}

// optionalColumns are the columns of a table its stream goes without
// (protheus.OptionalOrderFields).
func optionalColumns(t component.Table) []string {
	var out []string
	for _, f := range protheus.OptionalOrderFields(aliasOf(t.Spec)) {
		out = append(out, f.Name)
	}
	return out
}

// checkRoutes reads page 1 of every route of ts once, and reports its
// status and item count, and the fields the bridge reads that its first
// item lacks.
func (a *Access) checkRoutes(ctx context.Context, ts []component.Table) []component.Finding {
	var out []component.Finding
	fail := func(format string, args ...any) {
		out = append(out, component.Finding{Problem: true, Text: fmt.Sprintf(format, args...)})
	}
	var routed []component.Table
	for _, t := range ts {
		if t.Without == "" { // a table the stream goes without is not read through routes
			routed = append(routed, t)
		}
	}
	routes, err := a.Routes(routed)
	if err != nil {
		fail("%v", err)
		return out
	}
	for _, r := range routes {
		p := ProbeRoute(ctx, r.Route, checkPageSize)
		optional := optionalColumns(r.Table)
		var lacks []string // missing fields the stream goes without
		p.Missing = slices.DeleteFunc(p.Missing, func(col string) bool {
			if slices.Contains(optional, col) {
				lacks = append(lacks, col)
				return true
			}
			return false
		})
		role := r.Table.Role
		if len(lacks) > 0 && p.Err == nil {
			out = append(out, component.Finding{Warn: true, Text: fmt.Sprintf("%s route: its items lack %s: read with their defaults (docs/protheus.md, optional order fields)",
				role, strings.Join(lacks, ", "))})
		}
		switch {
		case p.Status == http.StatusUnauthorized || p.Status == http.StatusForbidden:
			fail("%s route: GET %s: %v (erp.rest.user and password, or token; the other routes were not tried)", role, p.Request, p.Err)
			return out
		case p.Err != nil:
			fail("%s route: GET %s: %v", role, p.Request, p.Err)
			continue
		case len(p.Missing) > 0:
			fail("%s route: GET %s → %d: its items lack %s", role, p.Request, p.Status, strings.Join(p.Missing, ", "))
		default:
			out = append(out, component.Finding{Text: fmt.Sprintf("%-14s GET %s → %d, %d item(s) on page 1", role, p.Request, p.Status, p.Items)})
		}
		if p.Items == 0 {
			out = append(out, component.Finding{Detail: true, Text: role + " route answers no items: its fields cannot be checked"})
			continue
		}
		if r.Table.Mapping != nil {
			cat := make([]sqlerp.CatalogColumn, len(p.Fields))
			for i, f := range p.Fields {
				cat[i] = sqlerp.CatalogColumn{Name: f}
			}
			if err := MappingColumns(cat, r.Table, *r.Table.Mapping); err != nil {
				fail("streams.%s.mapping: %v (route %s)", role, err, r.Route.Path)
			}
		}
	}
	return out
}
