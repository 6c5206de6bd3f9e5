package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/protheus/dictionary"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/erp/sqlerp/dsn"
	"github.com/erpbridge/erpbridge/mapping"
)

// Name is the ERP component's name and its config table.
const Name = "erp"

// ERP sources: how streams read the ERP.
const (
	SourceSQL  = "sql"
	SourceREST = "rest"
)

func init() { component.Register(erpComponent{}) }

type erpComponent struct{}

var (
	_ component.Component = erpComponent{}
	_ component.Kinded    = erpComponent{}
)

func (erpComponent) Name() string                { return Name }
func (erpComponent) Table() string               { return Name }
func (erpComponent) Kind() component.Kind        { return component.KindERP }
func (erpComponent) NewConfig() component.Config { return Default() }

// Config is the [erp] table.
type Config struct {
	// Source is how streams read the ERP: "sql" (its database: driver and
	// dsn) or "rest" (its custom REST routes: [erp.rest]).
	Source  string `toml:"source"`
	Driver  string `toml:"driver"`  // postgres | sqlserver | oracle | sqlite
	DSN     string `toml:"dsn"`     // connection string; use ${ENV} for the password
	Company string `toml:"company"` // Protheus company code: SA1 + 01 + 0 = SA1010
	// Companies are the companies the bridge serves, instead of Company:
	// every stream reads its tables in each ("01", "02": SA1010, SA1020).
	// The first is the one an older, one-company store was filled from.
	Companies    []string           `toml:"companies"`
	PageSize     int                `toml:"page_size"`
	Overlap      component.Duration `toml:"overlap"`       // re-read window behind the stamp cursor
	QueryTimeout component.Duration `toml:"query_timeout"` // per page
	// REST configures the routes read when Source is "rest".
	REST REST `toml:"rest"`
}

var (
	_ component.Config    = (*Config)(nil)
	_ component.Validator = (*Config)(nil)
	_ component.PageSizer = (*Config)(nil)
	_ component.Defaulter = (*Config)(nil)
)

// ApplyDefaults implements component.Defaulter: company and companies are
// two forms of one setting.
func (c *Config) ApplyDefaults(set func(key ...string) bool) error {
	if set("company") && set("companies") {
		return fmt.Errorf("erp: set company (one) or companies (several), not both")
	}
	return nil
}

// CompanyList is the companies the bridge serves, in order.
func (c *Config) CompanyList() []string {
	if len(c.Companies) > 0 {
		return c.Companies
	}
	return []string{c.Company}
}

// Default is [erp] with every default set.
func Default() *Config {
	return &Config{
		Source: SourceSQL, Driver: "sqlite", Company: "01", PageSize: 500,
		Overlap: component.Dur(2 * time.Minute), QueryTimeout: component.Dur(60 * time.Second),
		REST: REST{
			Timeout:   component.Dur(30 * time.Second),
			PageParam: "page", PageSizeParam: "pageSize", SinceParam: "since", KeyParam: "key",
			ItemsPath: "items", HasNextPath: "hasNext",
			Routes: component.DeclaredRoutes(),
		},
	}
}

// Enabled implements component.Config: the streams always read the ERP.
func (c *Config) Enabled() bool { return true }

// PageRows is how many rows a page of the ERP has.
func (c *Config) PageRows() int { return c.PageSize }

// Validate implements component.Validator.
func (c *Config) Validate(v *component.Validation) {
	if c.Source != SourceREST { // REST routes need no database
		knownDriver := true
		switch c.Driver {
		case "postgres", "sqlserver", "oracle", "sqlite":
		default:
			knownDriver = false
			v.Bad("driver", "%q is not one of postgres, sqlserver, oracle, sqlite", c.Driver)
		}
		if strings.TrimSpace(c.DSN) == "" {
			v.Bad("dsn", "is required")
		} else if err := dsn.Check(c.Driver, c.DSN); err != nil && knownDriver {
			v.Bad("dsn", "%v", err) // never repeats the DSN
		}
	}
	c.validateSource(v)
	if c.Companies == nil && !protheus.ValidCompany(c.Company) {
		v.Bad("company", "%q is not a two-character Protheus company code such as \"01\"", c.Company)
	}
	if c.Companies != nil && len(c.Companies) == 0 {
		v.Bad("companies", "is empty: list the companies the bridge serves, e.g. [\"01\", \"02\"]")
	}
	for i, co := range c.Companies {
		switch {
		case !protheus.ValidCompany(co):
			v.Bad("companies", "%q is not a two-character Protheus company code such as \"01\"", co)
		case slices.Contains(c.Companies[:i], co):
			v.Bad("companies", "%q is listed twice", co)
		}
	}
	if c.Source == SourceREST && len(c.Companies) > 1 {
		v.Bad("companies", "the REST routes serve the company they run in (PrepareIn): one company with source = \"rest\"")
	}
	if c.PageSize < 1 || c.PageSize > 10000 {
		v.Bad("page_size", "%d is outside 1..10000", c.PageSize)
	}
	if c.Overlap.D() < 0 {
		v.Bad("overlap", "must not be negative")
	}
	if c.QueryTimeout.D() <= 0 {
		v.Bad("query_timeout", "must be positive")
	}
}

// ResolvePaths makes a relative SQLite file path absolute (from the
// config file's folder).
func (c *Config) ResolvePaths(abs func(string) string) {
	if c.Driver != "sqlite" || c.DSN == "" || strings.HasPrefix(c.DSN, ":memory:") {
		return
	}
	prefix, rest := "", c.DSN
	if strings.HasPrefix(rest, "file:") {
		prefix, rest = "file:", strings.TrimPrefix(rest, "file:")
	}
	file, query, hasQuery := strings.Cut(rest, "?")
	file = abs(file)
	if hasQuery {
		c.DSN = prefix + file + "?" + query
		return
	}
	c.DSN = prefix + file
}

// Access is the opened ERP.
type Access struct {
	cfg     *Config
	db      *sql.DB
	dialect sqlerp.Dialect
	rest    *restERP

	// sharing caches what each company's data dictionary (SX2) says of
	// each table, by company and alias, read once.
	sharingMu sync.Mutex
	sharing   map[[2]string]tableSharing
}

// tableSharing is what a company's SX2 says of a table (known: it could be
// read and lists the table).
type tableSharing struct {
	mode  protheus.Sharing
	known bool
}

var (
	_ component.ERP   = (*Access)(nil)
	_ protheus.Sharer = (*Access)(nil)
)

// Sharing implements protheus.Sharer: from the company's SX2 table
// (dictionary.Read), read once per table; not known over REST routes,
// without the dictionary or its grant, or when SX2 does not list it.
func (a *Access) Sharing(ctx context.Context, company, alias string) (protheus.Sharing, bool, error) {
	if a.db == nil {
		return protheus.Sharing{}, false, nil
	}
	alias = strings.ToUpper(alias)
	a.sharingMu.Lock()
	defer a.sharingMu.Unlock()
	k := [2]string{company, alias}
	ts, ok := a.sharing[k]
	if !ok {
		dict, err := dictionary.Read(ctx, a.db, a.dialect, company, alias)
		switch {
		case errors.Is(err, dictionary.ErrNoDictionary):
		case err != nil:
			return protheus.Sharing{}, false, err
		default:
			if t, listed := dict.Tables[alias]; listed {
				ts = tableSharing{known: true, mode: protheus.Sharing{
					Empresa: string(rune(t.Company)), Unidade: string(rune(t.Unit)), Filial: string(rune(t.Branch))}}
			}
		}
		if a.sharing == nil {
			a.sharing = map[[2]string]tableSharing{}
		}
		a.sharing[k] = ts
	}
	return ts.mode, ts.known, nil
}

// Filials implements protheus.Sharer: the distinct values of the table's
// filial column.
func (a *Access) Filials(ctx context.Context, spec sqlerp.TableSpec) ([]string, error) {
	if a.db == nil {
		return nil, errors.New("the branches of a table are read from the ERP's database, which REST routes do not open")
	}
	return sqlerp.Distinct(ctx, a.db, a.dialect, spec.Physical, spec.FilialColumn)
}

// Open connects to the ERP database (erp.source = "sql"), or prepares its
// REST routes (nothing is sent until a table is opened).
func Open(ctx context.Context, c *Config) (*Access, error) {
	if c.Source == SourceREST {
		return &Access{cfg: c, rest: &restERP{cfg: c}}, nil
	}
	db, d, err := sqlerp.Open(c.Driver, c.DSN)
	if err != nil {
		return nil, err
	}
	return &Access{cfg: c, db: db, dialect: d}, nil
}

// Close closes the database.
func (a *Access) Close() error {
	if a.db != nil {
		return a.db.Close()
	}
	return nil
}

// Companies implements component.ERP.
func (a *Access) Companies() []string { return a.cfg.CompanyList() }

// CompanyCode implements component.CompanyCoder.
func (c *Config) CompanyCode() string { return c.Company }

// SQL implements component.ERP.
func (a *Access) SQL() (*sql.DB, sqlerp.Dialect) { return a.db, a.dialect }

// Settings are the [erp] settings the access was opened with.
func (a *Access) Settings() *Config { return a.cfg }

// Open implements component.ERP: with a mapping, the columns it reads are
// added to the table's (but for those the stream provides itself), typed
// from the Protheus dictionary when it knows the field, else from the
// catalog.
func (a *Access) Open(ctx context.Context, t component.Table, m *mapping.Mapping) (erp.Source, error) {
	if a.rest != nil {
		return a.rest.open(ctx, t, m)
	}
	spec := t.Spec
	if m != nil {
		cat, err := sqlerp.ReadCatalog(ctx, a.db, a.dialect, spec.Physical)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", t.Role, spec.Physical, err)
		}
		cols := slices.DeleteFunc(m.Columns(), func(c string) bool { return slices.Contains(t.Provided, c) })
		spec = onlyColumns(spec, append(slices.Clone(cols), t.Extra...))
		if spec, err = withMappedColumns(cat, spec, spec.Physical[:3], cols); err != nil {
			return nil, fmt.Errorf("streams.%s.mapping: %w", t.Role, err)
		}
	}
	opts := sqlerp.Options{Overlap: a.cfg.Overlap.D(), QueryTimeout: a.cfg.QueryTimeout.D()}
	src, err := sqlerp.NewSource(ctx, a.db, a.dialect, spec, opts)
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", t.Role, spec.Physical, err)
	}
	return src, nil
}

// Columns implements component.ERP.
func (a *Access) Columns(ctx context.Context, t component.Table) (func(string) bool, error) {
	if a.rest != nil {
		return a.rest.columns(ctx, t)
	}
	cat, err := sqlerp.ReadCatalog(ctx, a.db, a.dialect, t.Spec.Physical)
	if err != nil {
		return nil, fmt.Errorf("reading the columns of %s: %w", t.Spec.Physical, err)
	}
	return func(column string) bool {
		return slices.ContainsFunc(cat, func(c sqlerp.CatalogColumn) bool { return c.Name == strings.ToUpper(column) })
	}, nil
}

// Catalog implements component.ERP.
func (a *Access) Catalog(ctx context.Context, t component.Table) ([]sqlerp.CatalogColumn, error) {
	if a.rest != nil {
		return a.rest.catalog(ctx, t, nil)
	}
	return sqlerp.ReadCatalog(ctx, a.db, a.dialect, t.Spec.Physical)
}

var _ component.ERPOpener = (*Config)(nil)

// OpenERP implements component.ERPOpener.
func (c *Config) OpenERP(ctx context.Context) (component.OpenedERP, error) { return Open(ctx, c) }
