package config

import (
	"time"

	"github.com/erpbridge/erpbridge/mapping"
)

// Default returns the configuration every file starts from. It is the one
// place defaults live: Load decodes the file on top of it.
func Default() Config {
	stream := func() Stream {
		return Stream{Enabled: true, Filial: "", Mode: ModeUpsert, Deletes: DeletesIgnore}
	}
	return Config{
		DataDir: "erpbridge-data",
		Log:     Log{Level: "info", MaxSizeMB: 50, MaxAgeDays: 30, MaxBackups: 10},
		CRM: CRM{
			BaseURL:           "https://crm.rdstation.com/api/v1",
			RequestsPerMinute: 100,
			Burst:             10,
			Timeout:           Duration(30 * time.Second),
			MaxRetries:        5,
		},
		ERP: ERP{
			Driver:       "sqlite",
			Company:      "01",
			PageSize:     500,
			Overlap:      Duration(2 * time.Minute),
			QueryTimeout: Duration(60 * time.Second),
		},
		Schedule: Schedule{Incremental: "*/5 * * * *", FullPass: "0 2 * * *"},
		Streams: Streams{
			Customers: Customers{Stream: stream(), Blocked: BlockedSkip},
			Contacts:  Contacts{Stream: stream()},
			Products:  Products{Stream: stream()},
		},
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
)

// applyMappingDefaults gives every stream without a mapping table its
// default mapping, and fixes what a stream's mapping must be (its record
// name and CRM entity, a version).
func (c *Config) applyMappingDefaults() {
	set := func(s *mapping.Spec, def mapping.Spec) {
		if len(s.Fields) == 0 && len(s.CustomFields) == 0 {
			version := s.Version
			*s = def
			if version != "" {
				s.Version = version
			}
		}
		s.Record, s.Entity = def.Record, def.Entity
		if s.Version == "" {
			s.Version = "1"
		}
	}
	set(&c.Streams.Customers.Mapping, mapping.CustomerSpec(c.Streams.Customers.CNPJField))
	set(&c.Streams.Contacts.Mapping, mapping.ContactSpec())
	products := mapping.ProductSpec()
	if c.Streams.Products.PriceTable != "" {
		products.Fields["base_price"] = "money(DA1_PRCVEN ?? B1_PRV1)"
	}
	set(&c.Streams.Products.Mapping, products)
}
