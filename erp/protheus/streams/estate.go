package streams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/erp"
	"github.com/erpbridge/erpbridge/erp/protheus"
	"github.com/erpbridge/erpbridge/erp/sqlerp"
)

// A stream reads its main table (SA1, SC5 …) in parts: for each company the
// bridge serves (erp.companies), one part where the table is shared, else
// one per branch it reads (filials). Each part is what a one-company,
// one-branch stream was: a Source of that table for that filial, with its
// related tables (xFilial of each, per the dictionary) and its mapper.
// Estate merges the parts under the stream's one name: one cursor holding
// each part's position, one status, one error list; its records carry
// estate keys (protheus.EstateKey), so a dependency's Lookup, the
// identity map and the outbox tell the companies apart.

// Filials are the branches a stream reads, as [streams.X] filials writes
// them: branch codes ("01" for that branch of every company, "02/01" for
// branch 01 of company 02 only), or "*" (written as a string, or as the
// list's only entry) for every branch its table has rows of.
type Filials []string

// AllFilials is the filials entry meaning every branch.
const AllFilials = "*"

// UnmarshalText lets filials = "*" be written without a list.
func (f *Filials) UnmarshalText(b []byte) error {
	if string(b) != AllFilials {
		return fmt.Errorf("write a list of branch codes, or \"*\" for every branch (got %q)", b)
	}
	*f = Filials{AllFilials}
	return nil
}

// All reports whether f names every branch.
func (f Filials) All() bool { return len(f) == 1 && f[0] == AllFilials }

// check says what is wrong with f ("" nothing).
func (f Filials) check() string {
	if slices.Contains(f, AllFilials) && len(f) > 1 {
		return `"*" (every branch) goes alone`
	}
	seen := map[string]bool{}
	for _, e := range f {
		if e == AllFilials {
			continue
		}
		b, qualified := parseFilial(e)
		if qualified && !protheus.ValidCompany(b.Company) {
			return fmt.Sprintf("%q: %q is not a two-character Protheus company code", e, b.Company)
		}
		if !protheus.ValidFilial(b.Filial) {
			return fmt.Sprintf("%q is not a Protheus branch code (letters, digits and blanks, at most 12; \"02/01\" for branch 01 of company 02 only)", e)
		}
		if seen[b.String()] {
			return fmt.Sprintf("%q is listed twice", e)
		}
		seen[b.String()] = true
	}
	return ""
}

// parseFilial reads one filials entry: "01", or "02/01" (qualified).
func parseFilial(e string) (protheus.Branch, bool) {
	if c, f, ok := strings.Cut(e, protheus.BranchSeparator); ok {
		return protheus.Branch{Company: c, Filial: strings.TrimRight(f, " ")}, true
	}
	return protheus.Branch{Filial: strings.TrimRight(e, " ")}, false
}

// of lists the branches of company f names (every company's, and its own).
func (f Filials) of(company string) []string {
	var out []string
	for _, e := range f {
		b, qualified := parseFilial(e)
		if (!qualified || b.Company == company) && !slices.Contains(out, b.Filial) {
			out = append(out, b.Filial)
		}
	}
	return out
}

// SharedByConfig is whether the stream's main table is shared, as its
// settings say (the dictionary, when readable, says instead): shared =
// true/false, else a stream naming no branch (filial blank, no filials)
// reads a shared table.
func (b *Base) SharedByConfig() bool {
	if b.Shared != nil {
		return *b.Shared
	}
	return len(b.Filials) == 0 && strings.TrimSpace(b.Filial) == ""
}

// validateBranches checks filial, filials and shared.
func (b *Base) validateBranches(v *component.Validation) {
	if !ValidFilial(b.Filial) {
		v.Bad("filial", "%q is not a Protheus branch code (letters, digits and blanks, at most 12)", b.Filial)
	}
	if len(b.Filials) > 0 && b.Filial != "" {
		v.Bad("filials", "set filial (one branch) or filials (several), not both")
	}
	if why := b.Filials.check(); why != "" {
		v.Bad("filials", "%s", why)
	}
}

// Sharing says whether alias is shared in company, and why: from the data
// dictionary (SX2) when the ERP can read it, else fallback (the settings).
func Sharing(ctx context.Context, e component.ERP, company, alias string, fallback bool) (shared bool, from string, err error) {
	if s, ok := e.(protheus.Sharer); ok {
		mode, known, err := s.Sharing(ctx, company, alias)
		if err != nil {
			return false, "", err
		}
		if known {
			shared, err := mode.Shared()
			if err != nil {
				return false, "", fmt.Errorf("%s of company %s (%s): %w", alias, company, protheus.TableName(protheus.DictionaryAlias, company), err)
			}
			return shared, protheus.TableName(protheus.DictionaryAlias, company), nil
		}
	}
	return fallback, "the stream's settings", nil
}

// XFilial is the filial of alias's rows a record of branch reads in
// company (Protheus's xFilial): blank where the dictionary says the table
// is shared, the branch where it is exclusive; fallback (the settings)
// when the dictionary cannot say, or branch is blank (a shared main table
// leaves an exclusive related table to its setting).
func XFilial(ctx context.Context, e component.ERP, company, alias, branch, fallback string) (string, error) {
	if s, ok := e.(protheus.Sharer); ok {
		mode, known, err := s.Sharing(ctx, company, alias)
		if err != nil {
			return "", err
		}
		if known {
			shared, err := mode.Shared()
			if err != nil {
				return "", fmt.Errorf("%s of company %s: %w", alias, company, err)
			}
			if shared {
				return "", nil
			}
			if strings.TrimSpace(branch) != "" {
				return branch, nil
			}
		}
	}
	return fallback, nil
}

// Parts lists the parts a stream reads its main table alias in: each
// company of the ERP in order, one part with a blank filial where the
// table is shared, else one per branch of the settings (with filials =
// "*", every branch spec's table has rows of). notes say what the reader
// should know (an exclusive table read for no branch).
func (b *Base) Parts(ctx context.Context, e component.ERP, stream, alias string, spec func(company string) (sqlerp.TableSpec, error)) (parts []protheus.Branch, notes []string, err error) {
	for _, company := range e.Companies() {
		shared, from, err := Sharing(ctx, e, company, alias, b.SharedByConfig())
		if err != nil {
			return nil, nil, fmt.Errorf("streams.%s: %w", stream, err)
		}
		if shared {
			parts = append(parts, protheus.Branch{Company: company})
			continue
		}
		var branches []string
		switch {
		case b.Filials.All():
			s, ok := e.(protheus.Sharer)
			if !ok {
				return nil, nil, fmt.Errorf("streams.%s.filials = \"*\" reads the branches of the ERP's database; name them when the ERP is read through REST routes", stream)
			}
			sp, err := spec(company)
			if err != nil {
				return nil, nil, err
			}
			if branches, err = s.Filials(ctx, sp); err != nil {
				return nil, nil, fmt.Errorf("streams.%s.filials = \"*\": %w", stream, err)
			}
		case len(b.Filials) > 0:
			branches = b.Filials.of(company)
		default:
			branches = []string{strings.TrimRight(b.Filial, " ")}
		}
		for _, f := range branches {
			if strings.TrimSpace(f) == "" {
				notes = append(notes, fmt.Sprintf("%s is exclusive in company %s (%s), and streams.%s names no branch: only its rows with a blank filial are read (name the branches in filials)",
					alias, company, from, stream))
			}
			parts = append(parts, protheus.Branch{Company: company, Filial: f})
		}
	}
	return parts, notes, nil
}

// Notes makes a stream's notes component notes.
func Notes(stream string, notes []string) []component.Note {
	var out []component.Note
	for _, n := range notes {
		out = append(out, component.Note{Stream: stream, Text: n})
	}
	return out
}

// PartNames names parts, for settings hashes and messages.
func PartNames(parts []protheus.Branch) []string {
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = p.String()
	}
	return out
}

// EstatePart is one part of a stream: its company and branch, the Source
// of its main table (table keys) and the mapper of its records (which get
// estate keys); Mapper is nil for a table only read (a dependency's).
type EstatePart struct {
	Branch protheus.Branch
	Source erp.Source
	Mapper bridge.Mapper
}

// Estate is a stream's parts as one erp.Source, whose records carry estate
// keys, and one bridge.Mapper (Mapper), handing each record to its part's
// mapper.
type Estate struct {
	parts []EstatePart
}

var (
	_ erp.Source          = (*Estate)(nil)
	_ bridge.Mapper       = estateMapper{}
	_ bridge.PagePreparer = estatePreparer{}
)

// Mapper is the stream's mapper: each record mapped by its part's; a page
// preparer when the parts' mappers are.
func (s *Estate) Mapper() bridge.Mapper {
	m := estateMapper{s}
	for _, p := range s.parts {
		if _, ok := p.Mapper.(bridge.PagePreparer); ok {
			return estatePreparer{m}
		}
	}
	return m
}

// estateMapper maps each record with its part's mapper.
type estateMapper struct{ s *Estate }

// estatePreparer is an estateMapper whose parts prepare their pages.
type estatePreparer struct{ estateMapper }

// NewEstate merges parts, in the order given (its cursor's order).
func NewEstate(parts ...EstatePart) *Estate { return &Estate{parts: parts} }

// Parts returns the parts.
func (s *Estate) Parts() []EstatePart { return s.parts }

// part returns the part a record's estate key belongs to.
func (s *Estate) part(key string) (EstatePart, string, bool) {
	b, ok := protheus.KeyBranch(key)
	if !ok {
		return EstatePart{}, "", false
	}
	for _, p := range s.parts {
		if p.Branch.Same(b) {
			_, tk, _ := protheus.SplitEstateKey(key)
			return p, tk, true
		}
	}
	return EstatePart{}, "", false
}

// estateKeys gives records the estate keys of company.
func estateKeys(company string, recs []erp.Record) []erp.Record {
	for i := range recs {
		recs[i].Key = protheus.EstateKey(company, recs[i].Key)
	}
	return recs
}

// estatePosition is the poll cursor: each part's position, by part name.
// A cursor of an earlier version (one table's position) is the first
// part's; a part the cursor lacks (a branch or company added) starts from
// the beginning.
type estatePosition struct {
	At map[string]erp.Position `json:"at"`
}

// estateFull is the full pass's position: the part it is in and where.
type estateFull struct {
	In    string       `json:"in"`
	After erp.Position `json:"after"`
}

func (s *Estate) decodeChanges(p erp.Position) (estatePosition, error) {
	out := estatePosition{At: map[string]erp.Position{}}
	switch {
	case p == "":
	case strings.HasPrefix(string(p), `{"at":`):
		if err := json.Unmarshal([]byte(p), &out); err != nil {
			return out, fmt.Errorf("reading the cursor %q: %w", p, err)
		}
		if out.At == nil {
			out.At = map[string]erp.Position{}
		}
	case len(s.parts) > 0:
		out.At[s.parts[0].Branch.String()] = p
	}
	return out, nil
}

func (p estatePosition) encode() erp.Position {
	b, _ := json.Marshal(p)
	return erp.Position(b)
}

// Incremental implements erp.Source: every part reads changes.
func (s *Estate) Incremental() bool {
	for _, p := range s.parts {
		if !p.Source.Incremental() {
			return false
		}
	}
	return len(s.parts) > 0
}

// Checkpoint implements erp.Source: every part's high-water mark.
func (s *Estate) Checkpoint(ctx context.Context) (erp.Position, error) {
	pos := estatePosition{At: map[string]erp.Position{}}
	for _, p := range s.parts {
		cp, err := p.Source.Checkpoint(ctx)
		if err != nil {
			return "", fmt.Errorf("%s: %w", p.Branch, err)
		}
		pos.At[p.Branch.String()] = cp
	}
	return pos.encode(), nil
}

// Changes implements erp.Source: each part's changes in turn, every page
// carrying every part's position.
func (s *Estate) Changes(ctx context.Context, since erp.Position, pageSize int) iter.Seq2[erp.Page, error] {
	return func(yield func(erp.Page, error) bool) {
		pos, err := s.decodeChanges(since)
		if err != nil {
			yield(erp.Page{}, err)
			return
		}
		for _, p := range s.parts {
			name := p.Branch.String()
			for page, err := range p.Source.Changes(ctx, pos.At[name], pageSize) {
				if err != nil {
					yield(erp.Page{}, err)
					return
				}
				pos.At = maps.Clone(pos.At)
				pos.At[name] = page.Next
				if !yield(erp.Page{Records: estateKeys(p.Branch.Company, page.Records), Next: pos.encode()}, nil) {
					return
				}
			}
		}
	}
}

// FullPass implements erp.Source: each part's rows in turn.
func (s *Estate) FullPass(ctx context.Context, after erp.Position, pageSize int) iter.Seq2[erp.Page, error] {
	return func(yield func(erp.Page, error) bool) {
		var at estateFull
		switch {
		case after == "":
		case strings.HasPrefix(string(after), `{"in":`):
			if err := json.Unmarshal([]byte(after), &at); err != nil {
				yield(erp.Page{}, fmt.Errorf("reading the full pass's position %q: %w", after, err))
				return
			}
		case len(s.parts) > 0: // an earlier version's, of its one table
			at = estateFull{In: s.parts[0].Branch.String(), After: after}
		}
		start := slices.IndexFunc(s.parts, func(p EstatePart) bool { return p.Branch.String() == at.In })
		if start < 0 { // not started, or its part is gone: from the first
			start, at.After = 0, ""
		}
		for i, p := range s.parts[start:] {
			from := erp.Position("")
			if i == 0 {
				from = at.After
			}
			name := p.Branch.String()
			for page, err := range p.Source.FullPass(ctx, from, pageSize) {
				if err != nil {
					yield(erp.Page{}, err)
					return
				}
				next, _ := json.Marshal(estateFull{In: name, After: page.Next})
				if !yield(erp.Page{Records: estateKeys(p.Branch.Company, page.Records), Next: erp.Position(next)}, nil) {
					return
				}
			}
		}
	}
}

// Lookup implements erp.Source: the record of an estate key, read in its
// part; a key of no part is not found.
func (s *Estate) Lookup(ctx context.Context, key string) (erp.Record, bool, error) {
	p, tk, ok := s.part(key)
	if !ok {
		return erp.Record{}, false, nil
	}
	rec, found, err := p.Source.Lookup(ctx, tk)
	if err != nil || !found {
		return erp.Record{}, found, err
	}
	rec.Key = protheus.EstateKey(p.Branch.Company, rec.Key)
	return rec, true, nil
}

// Find implements erp.Source: the matching rows of every part, in part
// order, at most limit.
func (s *Estate) Find(ctx context.Context, match []erp.Match, limit int) ([]erp.Record, error) {
	var out []erp.Record
	for _, p := range s.parts {
		if len(out) >= limit {
			break
		}
		recs, err := p.Source.Find(ctx, match, limit-len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, estateKeys(p.Branch.Company, recs)...)
	}
	return out, nil
}

// Close implements erp.Source: every part's source, once.
func (s *Estate) Close() error {
	srcs := make([]erp.Source, len(s.parts))
	for i, p := range s.parts {
		srcs[i] = p.Source
	}
	return CloseAll(srcs)
}

// CloseAll closes every source once (nil ones skipped).
func CloseAll(srcs []erp.Source) error {
	var errs []error
	for i, src := range srcs {
		if src != nil && !slices.Contains(srcs[:i], src) {
			errs = append(errs, src.Close())
		}
	}
	return errors.Join(errs...)
}

// Map implements bridge.Mapper: the record's part maps it.
func (m estateMapper) Map(ctx context.Context, rec erp.Record, r bridge.Resolver) bridge.Mapped {
	p, _, ok := m.s.part(rec.Key)
	if !ok || p.Mapper == nil {
		return bridge.Mapped{Errors: []error{fmt.Errorf("record %s: of no company and branch the stream reads", rec.Key)}}
	}
	return p.Mapper.Map(ctx, rec, r)
}

// MapDeleted implements bridge.Mapper.
func (m estateMapper) MapDeleted(ctx context.Context, rec erp.Record, r bridge.Resolver) bridge.Mapped {
	p, _, ok := m.s.part(rec.Key)
	if !ok || p.Mapper == nil {
		return bridge.Mapped{Errors: []error{fmt.Errorf("record %s: of no company and branch the stream reads", rec.Key)}}
	}
	return p.Mapper.MapDeleted(ctx, rec, r)
}

// PreparePage implements bridge.PagePreparer: each part's mappers prepare
// its records of the page (and forget them with the page).
func (m estatePreparer) PreparePage(ctx context.Context, recs []erp.Record) {
	s := m.s
	byPart := make([][]erp.Record, len(s.parts))
	for _, rec := range recs {
		b, ok := protheus.KeyBranch(rec.Key)
		if !ok {
			continue
		}
		if i := slices.IndexFunc(s.parts, func(p EstatePart) bool { return p.Branch.Same(b) }); i >= 0 {
			byPart[i] = append(byPart[i], rec)
		}
	}
	for i, p := range s.parts {
		if pp, ok := p.Mapper.(bridge.PagePreparer); ok {
			pp.PreparePage(ctx, byPart[i])
		}
	}
}

// Named lists the branches of company the settings name, and whether they
// name them: false when they read every branch ("*") or none (a shared
// table), when any branch may be meant.
func (b *Base) Named(company string) ([]string, bool) {
	switch {
	case b.Filials.All():
		return nil, false
	case len(b.Filials) > 0:
		return b.Filials.of(company), true
	case strings.TrimSpace(b.Filial) != "":
		return []string{strings.TrimRight(b.Filial, " ")}, true
	}
	return nil, false
}

// OneBranchOnly refuses filials and shared on a stream that reads one
// branch of one company (why says which and why), so neither is silently
// ignored.
func OneBranchOnly(v *component.Validation, b *Base, why string) {
	if len(b.Filials) > 0 {
		v.Bad("filials", "not supported here: %s; set filial", why)
	}
	if b.Shared != nil {
		v.Bad("shared", "not supported here: %s; set filial (blank for a shared table)", why)
	}
}

var _ erp.Counter = (*Estate)(nil)

// CountChanges implements erp.Counter: the parts' counts from their
// positions; -1 when a part cannot count (no total is shown then).
func (s *Estate) CountChanges(ctx context.Context, since erp.Position) (int64, error) {
	pos, err := s.decodeChanges(since)
	if err != nil {
		return -1, err
	}
	var total int64
	for _, p := range s.parts {
		c, ok := p.Source.(erp.Counter)
		if !ok {
			return -1, nil
		}
		n, err := c.CountChanges(ctx, pos.At[p.Branch.String()])
		if err != nil || n < 0 {
			return -1, err
		}
		total += n
	}
	return total, nil
}

// CountFullPass implements erp.Counter: the rows left in the part the pass
// is in and every part after it; -1 when a part cannot count.
func (s *Estate) CountFullPass(ctx context.Context, after erp.Position) (int64, error) {
	var at estateFull
	switch {
	case after == "":
	case strings.HasPrefix(string(after), `{"in":`):
		if err := json.Unmarshal([]byte(after), &at); err != nil {
			return -1, fmt.Errorf("reading the full pass's position %q: %w", after, err)
		}
	case len(s.parts) > 0:
		at = estateFull{In: s.parts[0].Branch.String(), After: after}
	}
	start := slices.IndexFunc(s.parts, func(p EstatePart) bool { return p.Branch.String() == at.In })
	if start < 0 {
		start, at.After = 0, ""
	}
	var total int64
	for i, p := range s.parts[start:] {
		c, ok := p.Source.(erp.Counter)
		if !ok {
			return -1, nil
		}
		from := erp.Position("")
		if i == 0 {
			from = at.After
		}
		n, err := c.CountFullPass(ctx, from)
		if err != nil || n < 0 {
			return -1, err
		}
		total += n
	}
	return total, nil
}
