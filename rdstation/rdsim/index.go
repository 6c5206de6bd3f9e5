package rdsim

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// index files a table's records under keys derived from each record (a
// folded name, a foreign id, a custom field value), each key's records in
// table order. The table keeps it in step (see table.add, replace, remove),
// so a unique-name check or a relation look-up costs one map access instead
// of a scan of every record.
type index[T any] struct {
	keys func(*T) []string
	m    map[string][]*slot[T]
}

func newIndex[T any](keys func(*T) []string) *index[T] {
	return &index[T]{keys: keys, m: map[string][]*slot[T]{}}
}

// pos is where a slot of sequence seq is, or belongs, in a key's list.
func pos[T any](l []*slot[T], seq uint64) int {
	i, _ := slices.BinarySearchFunc(l, seq, func(x *slot[T], seq uint64) int { return cmp.Compare(x.seq, seq) })
	return i
}

// add files s under each key; a key listed twice files s twice (a deal
// listing a contact twice appears twice among that contact's deals, as it
// always has).
func (ix *index[T]) add(s *slot[T], keys []string) {
	for _, k := range keys {
		l := ix.m[k]
		ix.m[k] = slices.Insert(l, pos(l, s.seq), s)
	}
}

// drop removes s from under each key.
func (ix *index[T]) drop(s *slot[T], keys []string) {
	for _, k := range keys {
		l := ix.m[k]
		i := pos(l, s.seq)
		j := i
		for j < len(l) && l[j] == s {
			j++
		}
		if j == i {
			continue
		}
		if l = slices.Delete(l, i, j); len(l) == 0 {
			delete(ix.m, k)
		} else {
			ix.m[k] = l
		}
	}
}

// records are the records filed under key, in table order.
func (ix *index[T]) records(key string) []*T {
	l := ix.m[key]
	out := make([]*T, 0, len(l))
	for _, s := range l {
		out = append(out, s.v)
	}
	return out
}

// other reports a record other than selfID filed under key.
func (ix *index[T]) other(key, selfID string) bool {
	for _, s := range ix.m[key] {
		if s.id != selfID {
			return true
		}
	}
	return false
}

// indexes are the data's indexes, shared with the tables that keep them.
type indexes struct {
	orgNames, orgValues                               *index[Organization]
	contactNames, contactValues, contactsByOrg        *index[Contact]
	productNames, productValues                       *index[Product]
	dealNames, dealValues, dealsByOrg, dealsByContact *index[Deal]
}

func newIndexes() indexes {
	return indexes{
		orgNames:       newIndex(func(o *Organization) []string { return []string{nameKey(o.Name)} }),
		orgValues:      newIndex(func(o *Organization) []string { return valueKeys(o.CustomFields) }),
		contactNames:   newIndex(func(c *Contact) []string { return []string{nameKey(c.Name)} }),
		contactValues:  newIndex(func(c *Contact) []string { return valueKeys(c.CustomFields) }),
		contactsByOrg:  newIndex(func(c *Contact) []string { return nonEmpty(c.OrganizationID) }),
		productNames:   newIndex(func(p *Product) []string { return []string{nameKey(p.Name)} }),
		productValues:  newIndex(func(p *Product) []string { return valueKeys(p.CustomFields) }),
		dealNames:      newIndex(func(d *Deal) []string { return []string{d.Name} }),
		dealValues:     newIndex(func(d *Deal) []string { return valueKeys(d.CustomFields) }),
		dealsByOrg:     newIndex(func(d *Deal) []string { return nonEmpty(d.OrganizationID) }),
		dealsByContact: newIndex(func(d *Deal) []string { return d.ContactIDs }),
	}
}

func nonEmpty(id string) []string {
	if id == "" {
		return nil
	}
	return []string{id}
}

// nameKey is the unique-name key: two names are the same name (the CRM's
// rule, strings.EqualFold of the trimmed names) exactly when their keys are
// equal. Each rune becomes the smallest rune of its simple case-folding
// orbit, which is what EqualFold compares (K, k and the Kelvin sign K are one
// name; ß and ss are not); an invalid byte is U+FFFD, as EqualFold decodes it.
func nameKey(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return r
	}
	low := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		low = min(low, f)
	}
	return low
}

// valueKey is the key of value v of custom field fieldID: values compare as
// fmt.Sprint renders them, as the unique-value check always has.
func valueKey(fieldID string, v any) string {
	return strconv.Itoa(len(fieldID)) + ":" + fieldID + fmt.Sprint(v)
}

func valueKeys(vals []CustomFieldValue) []string {
	if len(vals) == 0 {
		return nil
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = valueKey(v.CustomFieldID, v.Value)
	}
	return out
}

// contactsOfOrg, dealsOfOrg and dealsOfContact answer the relations records
// do not carry themselves, from the indexes, in table order.
func (d *data) contactsOfOrg(orgID string) []*Contact { return d.ix.contactsByOrg.records(orgID) }

func (d *data) dealsOfOrg(orgID string) []*Deal { return d.ix.dealsByOrg.records(orgID) }

func (d *data) dealsOfContact(contactID string) []*Deal {
	return d.ix.dealsByContact.records(contactID)
}
