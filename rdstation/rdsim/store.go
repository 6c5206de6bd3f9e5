package rdsim

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// slot is one record of a table: its id, its insertion sequence (the
// table's order) and the record.
type slot[T any] struct {
	id  string
	seq uint64
	v   *T
}

// table holds one collection in insertion order and keeps its indexes in
// step with every add, replace and remove. Records of an indexed table are
// changed only through replace, so the indexes never go stale.
type table[T any] struct {
	byID  map[string]*slot[T]
	order []*slot[T]
	next  uint64
	ixs   []*index[T]
}

func newTable[T any](ixs ...*index[T]) table[T] {
	return table[T]{byID: map[string]*slot[T]{}, ixs: ixs}
}

// add appends a record under a new id.
func (t *table[T]) add(id string, v *T) {
	t.next++
	s := &slot[T]{id: id, seq: t.next, v: v}
	t.byID[id] = s
	t.order = append(t.order, s)
	for _, ix := range t.ixs {
		ix.add(s, ix.keys(v))
	}
}

func (t *table[T]) get(id string) (*T, bool) {
	s, ok := t.byID[id]
	if !ok {
		return nil, false
	}
	return s.v, true
}

func (t *table[T]) has(id string) bool {
	_, ok := t.byID[id]
	return ok
}

// replace overwrites record id with next in place (pointers to the record
// stay valid) and re-files it in every index whose keys changed.
func (t *table[T]) replace(id string, next T) {
	s, ok := t.byID[id]
	if !ok {
		return
	}
	for _, ix := range t.ixs {
		if old, now := ix.keys(s.v), ix.keys(&next); !slices.Equal(old, now) {
			ix.drop(s, old)
			ix.add(s, now)
		}
	}
	*s.v = next
}

func (t *table[T]) remove(id string) {
	s, ok := t.byID[id]
	if !ok {
		return
	}
	for _, ix := range t.ixs {
		ix.drop(s, ix.keys(s.v))
	}
	delete(t.byID, id)
	t.order = slices.DeleteFunc(t.order, func(x *slot[T]) bool { return x == s })
}

// pick returns the records of ids that exist, in the order given.
func (t *table[T]) pick(ids []string) []*T {
	var out []*T
	for _, id := range ids {
		if s, ok := t.byID[id]; ok {
			out = append(out, s.v)
		}
	}
	return out
}

func (t *table[T]) all() []*T {
	out := make([]*T, 0, len(t.order))
	for _, s := range t.order {
		out = append(out, s.v)
	}
	return out
}

func (t *table[T]) snapshot(clone func(T) T) []T {
	out := make([]T, 0, len(t.order))
	for _, s := range t.order {
		out = append(out, clone(*s.v))
	}
	return out
}

// data is every record of the account.
type data struct {
	account     Account
	tokens      map[string]string // token → user id
	users       table[User]
	segments    table[Segment]
	orgs        table[Organization]
	contacts    table[Contact]
	products    table[Product]
	fields      table[CustomField]
	pipelines   table[Pipeline]
	stages      table[Stage]
	sources     table[Named]
	campaigns   table[Named]
	lostReasons table[Named]
	deals       table[Deal]
	notes       table[Note]
	ix          indexes
}

func newData() *data {
	ix := newIndexes()
	return &data{
		ix:          ix,
		tokens:      map[string]string{},
		users:       newTable[User](),
		segments:    newTable[Segment](),
		orgs:        newTable(ix.orgNames, ix.orgValues),
		contacts:    newTable(ix.contactNames, ix.contactValues, ix.contactsByOrg),
		products:    newTable(ix.productNames, ix.productValues),
		fields:      newTable[CustomField](),
		pipelines:   newTable[Pipeline](),
		stages:      newTable[Stage](),
		sources:     newTable[Named](),
		campaigns:   newTable[Named](),
		lostReasons: newTable[Named](),
		deals:       newTable(ix.dealNames, ix.dealValues, ix.dealsByOrg, ix.dealsByContact),
		notes:       newTable[Note](),
	}
}

// newID returns a 24-hex-char id from the seeded generator. Callers hold s.mu.
func (s *Sim) newID() string {
	var b [12]byte
	for i := range b {
		b[i] = byte(s.ids.UintN(256))
	}
	return hex.EncodeToString(b[:])
}

// Default seed names.
const (
	DefaultAccountName  = "Sim Account"
	DefaultAdminName    = "Sim Admin"
	DefaultAdminEmail   = "admin@sim.example"
	DefaultPipelineName = "Funil de Vendas"
)

// seedDefaults fills an empty account. Callers hold s.mu.
func (s *Sim) seedDefaults() {
	now := s.clock.Now()
	d := s.d
	d.account = Account{ID: s.newID(), Name: DefaultAccountName}
	team := Team{ID: s.newID(), Name: "Vendas"}
	for i, tok := range s.opts.Tokens {
		u := &User{ID: s.newID(), Token: tok, Name: DefaultAdminName, Email: DefaultAdminEmail, Nickname: "SA",
			Phone: "(11) 99999-0000", Active: true, Teams: []Team{team}, CreatedAt: now, UpdatedAt: now}
		if i > 0 {
			u.Name = fmt.Sprintf("Sim User %d", i+1)
			u.Email = fmt.Sprintf("user%d@sim.example", i+1)
			u.Nickname = fmt.Sprintf("U%d", i+1)
			u.Phone = ""
		}
		d.users.add(u.ID, u)
		if _, dup := d.tokens[tok]; !dup {
			d.tokens[tok] = u.ID
		}
	}
	pipes := []struct {
		name   string
		stages []string
	}{
		{DefaultPipelineName, []string{"Sem contato", "Contato feito", "Identificação do interesse", "Apresentação", "Proposta enviada"}},
		{"Funil de Pós-venda", []string{"Onboarding", "Acompanhamento", "Renovação"}},
	}
	for pi, p := range pipes {
		pl := &Pipeline{ID: s.newID(), Name: p.name, Order: pi + 1, CreatedAt: now, UpdatedAt: now}
		d.pipelines.add(pl.ID, pl)
		for si, name := range p.stages {
			st := &Stage{ID: s.newID(), PipelineID: pl.ID, Name: name, Nickname: initials(name), Order: si + 1, CreatedAt: now, UpdatedAt: now}
			d.stages.add(st.ID, st)
		}
	}
	for _, name := range []string{"Preço", "Concorrência", "Sem orçamento", "Sem interesse"} {
		lr := &Named{ID: s.newID(), Name: name, CreatedAt: now, UpdatedAt: now}
		d.lostReasons.add(lr.ID, lr)
	}
	src := &Named{ID: s.newID(), Name: "Site", Description: "Formulário do site", CreatedAt: now, UpdatedAt: now}
	d.sources.add(src.ID, src)
	camp := &Named{ID: s.newID(), Name: "Campanha Padrão", Description: "Campanha padrão da conta", CreatedAt: now, UpdatedAt: now}
	d.campaigns.add(camp.ID, camp)
}

func initials(name string) string {
	out := []rune{}
	prev := ' '
	for _, r := range name {
		if prev == ' ' && r != ' ' {
			out = append(out, r)
		}
		prev = r
	}
	return strings.ToUpper(string(out))
}

// State returns a deep copy of every record.
func (s *Sim) State() State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d := s.d
	return State{
		Account:       d.account,
		Users:         d.users.snapshot(User.clone),
		Segments:      d.segments.snapshot(same[Segment]),
		Organizations: d.orgs.snapshot(Organization.clone),
		Contacts:      d.contacts.snapshot(Contact.clone),
		Products:      d.products.snapshot(Product.clone),
		CustomFields:  d.fields.snapshot(CustomField.clone),
		Pipelines:     d.pipelines.snapshot(same[Pipeline]),
		Stages:        d.stages.snapshot(same[Stage]),
		DealSources:   d.sources.snapshot(same[Named]),
		Campaigns:     d.campaigns.snapshot(same[Named]),
		LostReasons:   d.lostReasons.snapshot(same[Named]),
		Deals:         d.deals.snapshot(Deal.clone),
		Notes:         d.notes.snapshot(same[Note]),
	}
}

// Seed adds records directly, bypassing the API's validation (see SeedData).
// It fails, adding nothing, when an id is malformed or already taken.
func (s *Sim) Seed(sd SeedData) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	seen := map[string]bool{}
	var errs []error
	// ensure checks (and assigns) one id; the first pass only checks.
	check := func(kind string, id *string) {
		if *id == "" {
			return
		}
		if !isID(*id) {
			errs = append(errs, fmt.Errorf("seeding %s: id %q is not 24 lowercase hex chars", kind, *id))
		} else if seen[*id] || s.d.hasID(*id) {
			errs = append(errs, fmt.Errorf("seeding %s: id %s already exists", kind, *id))
		}
		seen[*id] = true
	}
	for i := range sd.Users {
		check("users", &sd.Users[i].ID)
	}
	for i := range sd.Segments {
		check("segments", &sd.Segments[i].ID)
	}
	for i := range sd.Organizations {
		check("organizations", &sd.Organizations[i].ID)
	}
	for i := range sd.Contacts {
		check("contacts", &sd.Contacts[i].ID)
	}
	for i := range sd.Products {
		check("products", &sd.Products[i].ID)
	}
	for i := range sd.CustomFields {
		check("custom_fields", &sd.CustomFields[i].ID)
	}
	for i := range sd.Pipelines {
		check("deal_pipelines", &sd.Pipelines[i].ID)
	}
	for i := range sd.Stages {
		check("deal_stages", &sd.Stages[i].ID)
	}
	for i := range sd.DealSources {
		check("deal_sources", &sd.DealSources[i].ID)
	}
	for i := range sd.Campaigns {
		check("campaigns", &sd.Campaigns[i].ID)
	}
	for i := range sd.LostReasons {
		check("deal_lost_reasons", &sd.LostReasons[i].ID)
	}
	for i := range sd.Deals {
		check("deals", &sd.Deals[i].ID)
	}
	for i := range sd.Notes {
		check("notes", &sd.Notes[i].ID)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	id := func(p *string) string {
		if *p == "" {
			*p = s.newID()
		}
		return *p
	}
	stamp := func(c, u *time.Time) {
		if c.IsZero() {
			*c = now
		}
		if u.IsZero() {
			*u = *c
		}
	}
	d := s.d
	for _, u := range sd.Users {
		u = u.clone()
		stamp(&u.CreatedAt, &u.UpdatedAt)
		d.users.add(id(&u.ID), &u)
		if u.Token != "" {
			d.tokens[u.Token] = u.ID
		}
	}
	for _, g := range sd.Segments {
		d.segments.add(id(&g.ID), &g)
	}
	for _, o := range sd.Organizations {
		o = o.clone()
		s.seedValues(o.CustomFields)
		stamp(&o.CreatedAt, &o.UpdatedAt)
		d.orgs.add(id(&o.ID), &o)
	}
	for _, c := range sd.Contacts {
		c = c.clone()
		s.seedValues(c.CustomFields)
		stamp(&c.CreatedAt, &c.UpdatedAt)
		d.contacts.add(id(&c.ID), &c)
	}
	for _, p := range sd.Products {
		p = p.clone()
		s.seedValues(p.CustomFields)
		stamp(&p.CreatedAt, &p.UpdatedAt)
		d.products.add(id(&p.ID), &p)
	}
	for _, f := range sd.CustomFields {
		f = f.clone()
		stamp(&f.CreatedAt, &f.UpdatedAt)
		d.fields.add(id(&f.ID), &f)
	}
	for _, p := range sd.Pipelines {
		stamp(&p.CreatedAt, &p.UpdatedAt)
		d.pipelines.add(id(&p.ID), &p)
	}
	for _, st := range sd.Stages {
		stamp(&st.CreatedAt, &st.UpdatedAt)
		d.stages.add(id(&st.ID), &st)
	}
	for _, set := range []struct {
		t    *table[Named]
		recs []Named
	}{{&d.sources, sd.DealSources}, {&d.campaigns, sd.Campaigns}, {&d.lostReasons, sd.LostReasons}} {
		for _, n := range set.recs {
			stamp(&n.CreatedAt, &n.UpdatedAt)
			set.t.add(id(&n.ID), &n)
		}
	}
	for _, dl := range sd.Deals {
		dl = dl.clone()
		s.seedValues(dl.CustomFields)
		stamp(&dl.CreatedAt, &dl.UpdatedAt)
		for i := range dl.Products {
			id(&dl.Products[i].ID)
			stamp(&dl.Products[i].CreatedAt, &dl.Products[i].UpdatedAt)
		}
		d.deals.add(id(&dl.ID), &dl)
	}
	for _, n := range sd.Notes {
		stamp(&n.CreatedAt, &n.UpdatedAt)
		d.notes.add(id(&n.ID), &n)
	}
	return nil
}

// seedValues gives custom field values ids and normalises JSON-decoded lists.
func (s *Sim) seedValues(vs []CustomFieldValue) {
	for i := range vs {
		if vs[i].ID == "" {
			vs[i].ID = s.newID()
		}
		if l, ok := vs[i].Value.([]any); ok {
			strs := make([]string, 0, len(l))
			for _, x := range l {
				strs = append(strs, fmt.Sprint(x))
			}
			vs[i].Value = strs
		}
		if n, ok := vs[i].Value.(json.Number); ok {
			vs[i].Value = n.String()
		}
	}
}

func (d *data) hasID(id string) bool {
	return d.users.has(id) || d.segments.has(id) || d.orgs.has(id) || d.contacts.has(id) ||
		d.products.has(id) || d.fields.has(id) || d.pipelines.has(id) || d.stages.has(id) ||
		d.sources.has(id) || d.campaigns.has(id) || d.lostReasons.has(id) || d.deals.has(id) ||
		d.notes.has(id)
}

func isID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}
