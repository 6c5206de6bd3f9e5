package component

import (
	"context"
	"database/sql"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/health"
	"github.com/erpbridge/erpbridge/bridge/inbound"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
	"github.com/erpbridge/erpbridge/mapping"
)

// Env is what components are provisioned and checked with: the parts of
// the bridge opened before them.
type Env struct {
	// ERP reads the ERP's tables.
	ERP ERP
	// CRM is the main target system, the CRM (nil when none is configured).
	CRM TargetSystem
	// Targets are every opened target system by component name ("crm",
	// "marketing"): a stream asks for the one it writes to (Target).
	Targets map[string]TargetSystem
	// Store is the checkpoint store.
	Store *store.Store
	Log   *zap.Logger
	Clock clock.Clock
	// DryRun: nothing is written anywhere.
	DryRun bool
	// AfterOrderSubmit, when set, runs right after the ERP answered a won
	// deal's order and before the answer is recorded (crash tests).
	AfterOrderSubmit func()
	// Configs gives every component's settings by name.
	Configs func(name string) (Config, bool)
}

// Config returns a component's settings by name.
func (e *Env) Config(name string) (Config, bool) {
	if e.Configs == nil {
		return nil, false
	}
	return e.Configs(name)
}

// Target returns the opened target system of the component name; false
// when it is not configured or not enabled.
func (e *Env) Target(name string) (TargetSystem, bool) {
	t, ok := e.Targets[name]
	return t, ok && t != nil
}

// StreamEnabled reports whether the stream component name is enabled.
func (e *Env) StreamEnabled(name string) bool {
	c, ok := e.Config(name)
	return ok && c.Enabled()
}

// ERP is the ERP as streams see it: tables read as sources, whether over
// SQL or the ERP's REST routes.
type ERP interface {
	// Companies are the ERP companies the bridge serves, in order (Protheus:
	// the table suffix, SA1 + 01 + 0); the first is the one a store of a
	// one-company version was filled from.
	Companies() []string
	// Open opens one table for reading. With a mapping, the columns it
	// reads are added to the table's (but for those the stream provides
	// itself). A nil source with no error: an optional table the ERP does
	// not serve (a REST route left empty).
	Open(ctx context.Context, t Table, m *mapping.Mapping) (erp.Source, error)
	// Columns reports which columns a table has (custom fields like
	// C5_XCRMID, refining columns a customer may lack).
	Columns(ctx context.Context, t Table) (func(column string) bool, error)
	// Catalog reads a table's columns, for `erpbridge check`.
	Catalog(ctx context.Context, t Table) ([]sqlerp.CatalogColumn, error)
	// SQL is the ERP's database; nil when it is read through REST routes.
	SQL() (*sql.DB, sqlerp.Dialect)
}

// Table is one ERP table a stream reads.
type Table struct {
	// Role names it in messages and in `erpbridge check` ("order items").
	Role string
	// Route is its key in [erp.rest.routes] ("order_items") and
	// RouteDefault the path it has unless the file says ("/orderItems").
	Route, RouteDefault string
	Spec                sqlerp.TableSpec
	// Extra are columns the stream reads itself besides its mapping's;
	// Provided are columns its mapping reads that the stream provides
	// (joined from another table, e.g. DA1_PRCVEN).
	Extra, Provided []string
	// Optional: the stream runs without this table (a route left empty, a
	// table the customer lacks); Without says how, for `erpbridge check`.
	Optional bool
	Without  string
	// Mapping is the stream's mapping of the table's rows, when it has
	// one: `erpbridge check` verifies the table has the columns it reads.
	Mapping *mapping.Spec
}

// TableReader is implemented by stream settings: the ERP tables they read.
type TableReader interface {
	// configs gives the other components' settings (a stream may read
	// another's table, as orders read the customers').
	Tables(company string, configs func(name string) (Config, bool)) ([]Table, error)
}

// TargetSystem is a system the streams write to (a CRM), as the streams
// see it: one writer per entity, and each entity's schema.
type TargetSystem interface {
	// Target returns the writer of one entity (organization, contact,
	// product, deal): one per entity, shared by every stream writing it
	// (their options must agree).
	Target(entity string, o TargetOptions) (bridge.Target, error)
	// Schema describes an entity for mappings: its fields, its custom
	// fields with their types and options.
	Schema(ctx context.Context, entity string) (mapping.Schema, error)
}

// TargetOptions tune an entity's target.
type TargetOptions struct {
	// KeyField is the custom field (by id) records are also adopted by (an
	// organization's CNPJ); "" for none.
	KeyField string
	// OmitSharedKey: a record whose exclusive natural key (a contact's
	// e-mail) another ERP record's CRM record has is sent without it (and
	// warned about), instead of refused.
	OmitSharedKey bool
	// Log gets the target's warnings about single records (with the
	// stream's fields); nil for none.
	Log *zap.Logger
	// UpdateOnly: the stream only updates records other streams own
	// (bridge.Facet): it gets a writer of its own, whatever options the
	// entity's other streams set.
	UpdateOnly bool
}

// Pipeline is a sales pipeline with its stages, in order.
type Pipeline struct {
	ID, Name string
	Stages   []Named
	// CopyWonTo is the pipeline a deal won in this one is copied into
	// ("" none): the copy is no second sale. CopyUnknown: the pipeline has
	// such a setting that the adapter cannot read.
	CopyWonTo   string
	CopyUnknown bool
}

// Named is a record known by id and name (a stage, a lost reason).
type Named struct{ ID, Name string }

// DealCRM is a target system with sales pipelines, users and deal notes:
// what the streams of orders and of won deals need besides Target.
type DealCRM interface {
	Pipelines(ctx context.Context) ([]Pipeline, error)
	LostReasons(ctx context.Context) ([]Named, error)
	// UserByEmail returns the id of the user with this e-mail ("" none).
	UserByEmail(ctx context.Context, email string) (string, error)
	// UserEmail returns a user's e-mail ("" for a removed user).
	UserEmail(ctx context.Context, id string) (string, error)
	// ProductNamed returns the id of the product with this exact name
	// ("" none).
	ProductNamed(ctx context.Context, name string) (string, error)
	// OrganizationField returns the value of one custom field (by id) of
	// an organization.
	OrganizationField(ctx context.Context, organizationID, fieldID string) (string, error)
	// WonDeals is the CRM's side of won deals → ERP orders; the ERP's order
	// number goes into the deal custom field numberFieldID ("" none).
	WonDeals(numberFieldID string) inbound.CRM
	// ZoneMargin widens won-deal listings (inbound.Options.ZoneMargin).
	ZoneMargin() time.Duration
}

// ERPOpener is implemented by the ERP component's settings.
type ERPOpener interface {
	// OpenERP connects to the ERP (its database), or prepares its routes.
	OpenERP(ctx context.Context) (OpenedERP, error)
}

// OpenedERP is an opened ERP.
type OpenedERP interface {
	ERP
	// Close releases the connection.
	Close() error
}

// OpenOptions tune how a target system is opened (tests and tools).
type OpenOptions struct {
	Clock      clock.Clock
	HTTPClient *http.Client
	Logger     *zap.Logger
	// Store is the checkpoint store: a target system that authorizes with
	// OAuth2 (RD Station CRM API v2, Marketing) keeps its grant there (bridge/oauth), and one may keep what it
	// read of the CRM (its catalogue) and what it sent. Nil when none is
	// open (`erpbridge check` before the first sync).
	Store *store.Store
	// DryRun: the target system writes nothing it keeps (its catalogue,
	// what it sent), though it reads an OAuth grant and keeps a refreshed
	// one (a refresh token it did not keep would lock the bridge out).
	DryRun bool
	// ObserveRequest, when set, is told of every HTTP attempt to the
	// target system (the request latency metrics; see bridge.StreamOf).
	ObserveRequest func(ctx context.Context, method string, status int, took time.Duration)
}

// TargetOpener is implemented by a target system's settings.
type TargetOpener interface {
	OpenTarget(ctx context.Context, o OpenOptions) (TargetSystem, error)
}

// AccountReporter is implemented by a target system that can say which
// account it reaches (bridge.CheckAccount).
type AccountReporter interface {
	Account() bridge.AccountProbe
}

// HealthReporter is implemented by a target system the health monitor
// can ask and measure.
type HealthReporter interface {
	Health() health.CRM
}

// CatalogCacher is implemented by a target system that keeps what the
// CRM's catalogue holds (custom fields, pipelines, users …) between
// processes: Refresh drops the kept copy, so the next reads ask the CRM,
// and reports whether anything had been served from it (so a name it
// lacked may be a stale copy's fault).
type CatalogCacher interface {
	Refresh(ctx context.Context) (bool, error)
}

// CallCounter is implemented by a target system that counts its requests
// (a run's "API calls").
type CallCounter interface {
	APICalls() int64
}

// RouteDeclarer is implemented by stream settings whose tables the ERP may
// serve through REST routes: every route they may read (key in
// [erp.rest.routes] → default path), whatever their settings, so the ERP
// component knows the routes and refuses an unknown one.
type RouteDeclarer interface {
	Routes() map[string]string
}

// DeclaredRoutes gathers the routes of every registered stream component.
func DeclaredRoutes() map[string]string {
	out := map[string]string{}
	for _, c := range Streams() {
		if d, ok := c.NewConfig().(RouteDeclarer); ok {
			for k, p := range d.Routes() {
				out[k] = p
			}
		}
	}
	return out
}

// NewCustomField is a custom field to create in a target system.
type NewCustomField struct {
	Label string
	// Type is the target's field type ("text", "option" …).
	Type string
	// Options are a single-choice field's options, in order.
	Options []string
}

// FieldCreator is implemented by a target system whose custom fields can
// be created through its API (`erpbridge init`); the fields it has are its
// Schema's.
type FieldCreator interface {
	CreateCustomField(ctx context.Context, entity string, f NewCustomField) error
}
