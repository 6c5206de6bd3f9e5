package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/installer/layout"
	"github.com/erpbridge/erpbridge/mapping"
)

// Default returns the configuration every file starts from. It is the one
// place defaults live: Load decodes the file on top of it.
func Default() Config {
	stream := func() Stream {
		return Stream{StreamBase: StreamBase{Enabled: true, Filial: "", Mode: ModeUpsert, Deletes: DeletesIgnore}}
	}
	return Config{
		DataDir: "erpbridge-data",
		Log:     Log{Level: "info", MaxSizeMB: 50, MaxAgeDays: 30, MaxBackups: 10},
		CRM: CRM{
			BaseURL:           "https://crm.rdstation.com/api/v1",
			RequestsPerMinute: 100,
			Burst:             10,
			Timeout:           Dur(30 * time.Second),
			MaxRetries:        5,
		},
		ERP: ERP{
			Source:       SourceSQL,
			Driver:       "sqlite",
			Company:      "01",
			PageSize:     500,
			Overlap:      Dur(2 * time.Minute),
			QueryTimeout: Dur(60 * time.Second),
			REST: ERPREST{
				Timeout:   Dur(30 * time.Second),
				PageParam: "page", PageSizeParam: "pageSize", SinceParam: "since", KeyParam: "key",
				ItemsPath: "items", HasNextPath: "hasNext",
				Routes: ERPRoutes{
					Customers: "/customers", Contacts: "/contacts", ContactLinks: "/contactLinks", Products: "/products",
					Prices: "/prices", Orders: "/orders", OrderItems: "/orderItems", Sellers: "/sellers",
				},
			},
		},
		Schedule: Schedule{Incremental: "*/5 * * * *", FullPass: "0 2 * * *"},
		HTTP:     HTTP{Addr: DefaultHTTPAddr},
		Streams: Streams{
			Customers: Customers{Stream: stream(), Blocked: BlockedSkip},
			Contacts:  Contacts{Stream: stream(), Unlinked: UnlinkedSkip, SharedEmail: SharedEmailOmit},
			Products:  Products{Stream: stream()},
			Orders: Orders{
				StreamBase: StreamBase{Enabled: false, Filial: "", Mode: ModeUpsert, Deletes: DeletesMark},
				Name:       "Pedido {num} · {customer}", WonWhen: []string{"invoiced"}, LostWhen: []string{"residue_eliminated"},
				HistoryDays: 90, Types: []string{"N"}, Total: TotalOrder,
			},
		},
		WonDeals: WonDeals{
			Enabled: false, Sink: SinkStaging, Overlap: Dur(10 * time.Minute), Lookback: Dur(24 * time.Hour),
			OrderType: "N", UseDealPrices: true, Notes: true,
			Staging: OrderStaging{Header: protheus.DefaultStagingAliases.Header, Items: protheus.DefaultStagingAliases.Items},
			REST:    OrderREST{Timeout: Dur(30 * time.Second)},
		},
	}
}

// applyInstalledDefaults gives an installed configuration the platform's
// folders. A file in the platform's config folder (/etc/erpbridge,
// %ProgramData%\erpbridge) is an installed one: unless it sets them,
// data_dir is the platform's data folder (/var/lib/erpbridge,
// %ProgramData%\erpbridge\data) and log.file is erpbridge.log in the
// platform's log folder (/var/log/erpbridge, %ProgramData%\erpbridge\logs).
// Anywhere else data_dir stays erpbridge-data next to the file and logs go to
// the console only. set reports whether the file sets table.key ("" table:
// top level).
func (c *Config) applyInstalledDefaults(set func(table, key string) bool, configFile string, l layout.Layout) {
	if !l.InConfigDir(configFile) {
		return
	}
	if !set("", "data_dir") {
		c.DataDir = l.DataDir
	}
	if !set("log", "file") {
		c.Log.File = l.LogFile()
	}
}

// Allowed values.
const (
	ModeUpsert     = "upsert"
	ModeCreateOnly = "create_only"
	ModeUpdateOnly = "update_only"

	DeletesIgnore = "ignore"
	DeletesMark   = "mark"

	BlockedSkip = "skip"
	BlockedMark = "mark"

	UnlinkedSkip = "skip"
	UnlinkedSync = "sync"

	SharedEmailOmit = "omit_email"
	SharedEmailSkip = "skip"
)

// applyMappingDefaults fills each stream's mapping from its default, key by
// key: what the file sets (fields, custom_fields, unique_name.suffix,
// unique_name.when, limits, version, invalid_utf8, on_invalid) replaces the default's
// value, the rest keeps it. set reports whether the file sets a key below a
// stream's mapping table (nil: nothing is set). A stream's record name and
// CRM entity are fixed.
func (c *Config) applyMappingDefaults(set func(stream string, key ...string) bool) error {
	if set == nil {
		set = func(string, ...string) bool { return false }
	}
	merge := func(stream string, s *mapping.Spec, def mapping.Spec) error {
		user := *s
		*s = def
		if set(stream, "record") || set(stream, "entity") {
			return fmt.Errorf("streams.%s.mapping: record and entity are fixed by the stream (%s, %s): remove them", stream, def.Record, def.Entity)
		}
		if set(stream, "fields") {
			s.Fields = user.Fields
		}
		if set(stream, "custom_fields") {
			s.CustomFields = user.CustomFields
		}
		if set(stream, "unique_name", "suffix") {
			s.UniqueName.Suffix = user.UniqueName.Suffix
		}
		if set(stream, "unique_name", "when") {
			s.UniqueName.When = user.UniqueName.When
		}
		if set(stream, "limits") {
			s.Limits = user.Limits
		}
		if set(stream, "version") {
			s.Version = user.Version
		}
		if set(stream, "invalid_utf8") {
			s.InvalidUTF8 = user.InvalidUTF8
		}
		if set(stream, "on_invalid") {
			s.OnInvalid = user.OnInvalid
		}
		return nil
	}
	products := protheus.ProductSpec()
	if c.Streams.Products.PriceTable != "" {
		products.Fields["base_price"] = "money(DA1_PRCVEN ?? B1_PRV1)"
	}
	return errors.Join(
		merge("customers", &c.Streams.Customers.Mapping, protheus.CustomerSpec(c.Streams.Customers.CNPJField)),
		merge("contacts", &c.Streams.Contacts.Mapping, protheus.ContactSpec()),
		merge("products", &c.Streams.Products.Mapping, products),
	)
}
