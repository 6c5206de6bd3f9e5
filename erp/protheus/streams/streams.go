package streams

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/mapping"
)

// Stream modes and delete policies, as the config writes them.
const (
	ModeUpsert     = string(bridge.ModeUpsert)
	ModeCreateOnly = string(bridge.ModeCreateOnly)
	ModeUpdateOnly = string(bridge.ModeUpdateOnly)
	DeletesIgnore  = string(bridge.DeletesIgnore)
	DeletesMark    = string(bridge.DeletesMark)
)

// Base holds what every stream's settings have.
type Base struct {
	On     bool   `toml:"enabled"`
	Filial string `toml:"filial"` // one branch code; blank (spaces) for shared tables
	// Filials are the branches the stream reads where its table is
	// exclusive (instead of Filial): codes, "02/01" for one company's, or
	// "*" for every branch (see Parts).
	Filials Filials `toml:"filials"`
	// Shared says whether the stream's table is shared by the branches
	// when the data dictionary (SX2) cannot be read; unset, a stream
	// naming no branch reads a shared table.
	Shared *bool  `toml:"shared"`
	Mode   string `toml:"mode"` // upsert | create_only | update_only
	// Deletes is what a record deleted in the ERP does: ignore | mark.
	Deletes string `toml:"deletes"`
	// Schedule overrides schedule.incremental for this stream.
	Schedule string `toml:"schedule"`
}

// Enabled implements component.Config.
func (b *Base) Enabled() bool { return b.On }

// ValidateBase checks the settings every stream has.
func (b *Base) ValidateBase(v *component.Validation) {
	b.validateBranches(v)
	switch b.Mode {
	case ModeUpsert, ModeCreateOnly, ModeUpdateOnly:
	default:
		v.Bad("mode", "%q is not one of upsert, create_only, update_only", b.Mode)
	}
	if b.Deletes != DeletesIgnore && b.Deletes != DeletesMark {
		v.Bad("deletes", "%q is not one of ignore, mark", b.Deletes)
	}
	if b.Schedule != "" {
		if err := component.CheckSchedule(b.Schedule, component.MinInterval); err != nil {
			v.Bad("schedule", "%v", err)
		}
	}
}

// ValidFilial reports whether s is a Protheus branch code.
func ValidFilial(s string) bool { return protheus.ValidFilial(s) }

// DeletesPolicy implements component.DeletePolicy.
func (b *Base) DeletesPolicy() string { return b.Deletes }

// ScheduleSpec is the stream's own schedule ("" follows schedule.incremental).
func (b *Base) ScheduleSpec() string { return b.Schedule }

// Declarative is a stream mapped declaratively (customers, contacts,
// products): its base, how deletes are marked, and its mapping.
type Declarative struct {
	Base
	// DeleteMark says how `deletes = "mark"` marks a record in the CRM.
	DeleteMark DeleteMark `toml:"delete_mark"`
	// Mapping declares CRM field ← ERP expression. A [streams.X.mapping]
	// table overrides the stream's default key by key (fields,
	// custom_fields, limits and on_invalid as a whole).
	Mapping mapping.Spec `toml:"mapping"`
}

// ValidateDeclarative checks the base, the delete mark and the mapping
// (against the target's static schema: labels are resolved at start and
// by `erpbridge check`).
func (d *Declarative) ValidateDeclarative(v *component.Validation) {
	d.ValidateBase(v)
	if d.Deletes == DeletesMark {
		if err := d.DeleteMark.Check(); err != nil {
			v.Bad("delete_mark", "%v (needed by deletes = \"mark\")", err)
		}
	}
	if err := CheckMapping(v, d.Mapping); err != nil {
		v.Bad("mapping", "%v", err)
	}
}

// StaticSchemas is implemented by a target system's settings that can
// describe its entities without I/O (their standard fields), so
// `erpbridge validate` checks mappings against them.
type StaticSchemas interface {
	StaticSchema(entity string) mapping.Schema
}

// CheckMapping compiles a mapping without the CRM: custom field labels are
// taken as text fields, so expressions, field names and templates are
// checked now and labels and options later by `erpbridge check` and at
// start.
func CheckMapping(v *component.Validation, spec mapping.Spec) error {
	return CheckMappingOn(v, spec, "crm")
}

// CheckMappingOn is CheckMapping against the static schema of the target
// system component named system ("marketing").
func CheckMappingOn(v *component.Validation, spec mapping.Spec, system string) error {
	schema := mapping.Schema{Entity: spec.Entity}
	if crm, ok := v.Config(system); ok {
		if s, ok := crm.(StaticSchemas); ok {
			schema = s.StaticSchema(spec.Entity)
		}
	}
	schema.Custom = mapping.LabelsAsText(spec)
	_, err := mapping.Compile(spec, schema)
	return err
}

// OverlayMapping lays the mapping the file wrote (user) over def: the
// tables fields, custom_fields, limits and on_invalid replace the
// default's as a whole when the file sets them, the other keys one by
// one. set reports whether the file sets a key under the mapping table.
func OverlayMapping(user mapping.Spec, def mapping.Spec, set func(key ...string) bool) (mapping.Spec, error) {
	s := def
	if set("record") || set("entity") {
		return s, fmt.Errorf("record and entity are fixed by the stream (%s, %s): remove them", def.Record, def.Entity)
	}
	if set("fields") {
		s.Fields = user.Fields
	}
	if set("custom_fields") {
		s.CustomFields = user.CustomFields
	}
	if set("unique_name", "suffix") {
		s.UniqueName.Suffix = user.UniqueName.Suffix
	}
	if set("unique_name", "when") {
		s.UniqueName.When = user.UniqueName.When
	}
	if set("limits") {
		s.Limits = user.Limits
	}
	if set("version") {
		s.Version = user.Version
	}
	if set("invalid_utf8") {
		s.InvalidUTF8 = user.InvalidUTF8
	}
	if set("on_invalid") {
		s.OnInvalid = user.OnInvalid
	}
	return s, nil
}

// DeleteMark configures how deleted (or blocked) ERP rows are marked in
// the CRM.
type DeleteMark struct {
	NamePrefix  string `toml:"name_prefix"`  // e.g. "[EXCLUÍDO] "
	CustomField string `toml:"custom_field"` // label of a CRM custom field …
	Value       string `toml:"value"`        // … set to this value
}

// Check says what is missing or contradictory in m.
func (m DeleteMark) Check() error {
	switch {
	case m.NamePrefix == "" && m.CustomField == "":
		return errors.New("set name_prefix, or custom_field and value")
	case m.NamePrefix != "" && m.CustomField != "":
		return errors.New("set name_prefix or custom_field, not both")
	case m.CustomField != "" && m.Value == "":
		return errors.New("custom_field needs a value")
	}
	return nil
}

// Mark is how a record is marked in the CRM (deleted or blocked in the ERP).
type Mark struct {
	namePrefix string
	fieldID    string // custom field id
	value      string
	customKey  string // payload key of the entity's custom fields
}

// NewMark resolves m's custom field in the entity's schema; nil when m
// marks nothing.
func NewMark(m DeleteMark, schema mapping.Schema, customKey string) (*Mark, error) {
	if m.NamePrefix == "" && m.CustomField == "" {
		return nil, nil
	}
	mk := &Mark{namePrefix: m.NamePrefix, value: m.Value, customKey: customKey}
	if m.CustomField != "" {
		f, err := schema.Custom.Lookup(m.CustomField)
		if err != nil {
			return nil, err
		}
		if len(f.Options) > 0 && !slices.Contains(f.Options, m.Value) {
			return nil, fmt.Errorf("custom field %q has no option %q (options: %s)", m.CustomField, m.Value, strings.Join(f.Options, ", "))
		}
		mk.fieldID = f.ID
	}
	return mk, nil
}

// MarkFor is the mark of deleted records: nil unless deletes is "mark".
func MarkFor(deletes string, m DeleteMark, schema mapping.Schema, mp *mapping.Mapping) (*Mark, error) {
	if deletes != DeletesMark {
		return nil, nil
	}
	return NewMark(m, schema, mp.CustomFieldsKey())
}

// Apply marks a mapped payload and refreshes its fingerprint.
func (mk *Mark) Apply(version string, m bridge.Mapped) bridge.Mapped {
	if mk == nil || m.Payload == nil {
		return m
	}
	if mk.namePrefix != "" {
		if name, ok := m.Payload["name"].(string); ok && !strings.HasPrefix(name, mk.namePrefix) {
			m.Payload["name"] = mk.namePrefix + name
		}
	}
	if mk.fieldID != "" {
		list, _ := m.Payload[mk.customKey].([]map[string]any)
		kept := list[:0:0]
		for _, v := range list {
			if v["custom_field_id"] != mk.fieldID {
				kept = append(kept, v)
			}
		}
		m.Payload[mk.customKey] = append(kept, map[string]any{"custom_field_id": mk.fieldID, "value": mk.value})
	}
	fp, err := mapping.Fingerprint(version+"+mark", m.Payload)
	if err != nil {
		m.Errors = append(m.Errors, err)
		return m
	}
	m.Fingerprint = fp
	return m
}

// MapRecord applies a compiled mapping to an ERP record, with extra
// columns read from related rows (extra's records give their BadValues):
// a field whose value is invalid is left out with a warning, or fails the
// record, as its on_invalid says.
func MapRecord(m *mapping.Mapping, rec erp.Record, extra map[string]any, extraFrom ...erp.Record) bridge.Mapped {
	fields := rec.Fields
	if len(extra) > 0 {
		fields = make(map[string]any, len(rec.Fields)+len(extra))
		for k, v := range rec.Fields {
			fields[k] = v
		}
		for k, v := range extra {
			fields[k] = v
		}
	}
	invalid := map[string]string{}
	unreadable := func(r erp.Record, only map[string]any) {
		for _, b := range r.BadValues {
			if _, ok := only[b.Column]; only == nil || ok {
				invalid[b.Column] = fmt.Sprintf("holds %q, which %s", b.Value, b.Reason)
			}
		}
	}
	unreadable(rec, nil)
	for _, r := range extraFrom {
		unreadable(r, extra)
	}
	res, err := m.ApplyInvalid(rec.Key, fields, invalid)
	out := bridge.Mapped{Payload: res.Payload, Fingerprint: res.Fingerprint}
	for _, fe := range res.Errors {
		out.Errors = append(out.Errors, fe)
	}
	for _, fe := range res.Warnings {
		out.Warnings = append(out.Warnings, fe)
	}
	if err != nil {
		out.Errors = append(out.Errors, err)
	}
	if len(out.Errors) > 0 {
		out.Payload, out.Warnings = nil, nil
	}
	return out
}

// Str returns a record's column as text ("" when absent or not text).
func Str(rec erp.Record, col string) string {
	s, _ := rec.Fields[col].(string)
	return s
}

// SettingsHash identifies a stream's settings (its mapping included) as
// its payloads depend on them: bridge.Stream.MappingHash.
func SettingsHash(settings ...any) string {
	b, err := json.Marshal(settings)
	if err != nil {
		panic(fmt.Sprintf("hashing stream settings: %v", err)) // config types always encode
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// Compile compiles a stream's mapping against the target's schema of its
// entity, naming the stream in errors.
func Compile(stream string, spec mapping.Spec, schema mapping.Schema) (*mapping.Mapping, error) {
	m, err := mapping.Compile(spec, schema)
	if err != nil {
		return nil, fmt.Errorf("streams.%s.mapping: %w", stream, err)
	}
	return m, nil
}

// CheckMappingLabels compiles a stream's mapping against the CRM's schema
// of its entity (every custom field label resolved the way the run
// resolves it), for `erpbridge check`.
func CheckMappingLabels(ctx context.Context, env *component.Env, stream string, spec mapping.Spec) []component.Finding {
	if env.CRM == nil {
		return nil
	}
	schema, err := env.CRM.Schema(ctx, spec.Entity)
	if err == nil {
		_, err = mapping.Compile(spec, schema)
	}
	if err != nil {
		return []component.Finding{{Problem: true, Section: component.SectionCRM, Text: fmt.Sprintf("%s mapping: %v", spec.Entity, err)}}
	}
	return nil
}

// Started is a declaratively mapped stream's start: its entity's schema
// and its mapping compiled against it. Each part of the stream's estate
// then opens its table with the mapping's columns.
type Started struct {
	Schema  mapping.Schema
	Mapping *mapping.Mapping
}

// Start reads the target's schema of entity and compiles a stream's
// mapping against it, with the combos of its cbox() columns from the
// first company's dictionary (one compiled mapping serves every part).
func Start(ctx context.Context, env *component.Env, stream, entity string, spec mapping.Spec, tr component.TableReader) (Started, error) {
	var o Started
	var err error
	if o.Schema, err = env.CRM.Schema(ctx, entity); err != nil {
		return o, err
	}
	tables, err := tr.Tables(env.ERP.Companies()[0], env.Config)
	if err != nil {
		return o, err
	}
	if spec, err = WithChoices(ctx, env, tables[0], spec); err != nil {
		return o, fmt.Errorf("streams.%s.mapping: %w", stream, err)
	}
	o.Mapping, err = Compile(stream, spec, o.Schema)
	return o, err
}
