package component

import (
	"context"
	"database/sql"
	"time"

	"go.uber.org/zap"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/clock"
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
	// CRM is the CRM target system (nil when none is configured).
	CRM TargetSystem
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

// StreamEnabled reports whether the stream component name is enabled.
func (e *Env) StreamEnabled(name string) bool {
	c, ok := e.Config(name)
	return ok && c.Enabled()
}

// ERP is the ERP as streams see it: tables read as sources, whether over
// SQL or the ERP's REST routes.
type ERP interface {
	// Company is the ERP company (Protheus: the table suffix, SA1 + 01 + 0).
	Company() string
	// Open opens one table for reading (role names it in messages: "order
	// items"). With a mapping, the columns it reads are added to the
	// table's, but for those the stream provides itself.
	Open(ctx context.Context, role string, spec sqlerp.TableSpec, m *mapping.Mapping, provided ...string) (erp.Source, error)
	// Columns reports which columns a table has (custom fields like
	// C5_XCRMID, refining columns a customer may lack).
	Columns(ctx context.Context, spec sqlerp.TableSpec) (func(column string) bool, error)
	// Catalog reads a table's columns, for `erpbridge check`.
	Catalog(ctx context.Context, spec sqlerp.TableSpec) ([]sqlerp.CatalogColumn, error)
	// SQL is the ERP's database; nil when it is read through REST routes.
	SQL() (*sql.DB, sqlerp.Dialect)
}

// TargetSystem is a system the streams write to (a CRM), as the streams
// see it: one writer per entity, and each entity's schema.
type TargetSystem interface {
	// Target returns the writer of one entity (organization, contact,
	// product, deal): one per entity, shared by every stream writing it.
	Target(entity string) (bridge.Target, error)
	// Schema describes an entity for mappings: its fields, its custom
	// fields with their types and options.
	Schema(ctx context.Context, entity string) (mapping.Schema, error)
}

// Pipeline is a sales pipeline with its stages, in order.
type Pipeline struct {
	ID, Name string
	Stages   []Named
	// CopyWonTo is the pipeline a deal won in this one is copied into
	// ("" none): the copy is no second sale.
	CopyWonTo string
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
