package target

import (
	"context"
	"errors"
	"iter"
	"strings"
	"sync"
	"time"

	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// index maps natural keys to CRM ids, built by listing the CRM once. RD
// Station cannot filter by most natural keys, so one listing (N/200 calls)
// replaces a search per created record. A listing that hits the 10,000-record
// cap leaves the index unusable and every lookup goes to the CRM. The index
// is rebuilt after indexTTL, so records users create in the CRM meanwhile
// are found by a long-running service.
type index struct {
	mu      sync.Mutex
	built   bool
	builtAt time.Time
	usable  bool
	keys    map[string]map[string]string // kind → key → value (usually a CRM id)
	// pretended are the keys a dry run added ([kind, key, value]).
	pretended [][3]string
}

// pretend adds a key a dry run would create (forgetPretended removes it).
func (ix *index) pretend(kind, key, value string) {
	ix.remember(kind, key, value)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.pretended = append(ix.pretended, [3]string{kind, normKey(key), value})
}

// forgetPretended removes what pretend added, unless the key was written
// since.
func (ix *index) forgetPretended() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, p := range ix.pretended {
		if ix.keys[p[0]][p[1]] == p[2] {
			delete(ix.keys[p[0]], p[1])
		}
	}
	ix.pretended = nil
}

// indexTTL is how long an adoption index is trusted.
const indexTTL = time.Hour

// normKey folds a natural key for comparison.
func normKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// build lists the CRM once; entries returns the (kind, key, value) triples
// of an item.
func build[T any](ctx context.Context, ix *index, seq iter.Seq2[T, error], entries func(T) [][3]string) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.built && time.Since(ix.builtAt) < indexTTL {
		return nil
	}
	keys := map[string]map[string]string{}
	usable := true
	for it, err := range seq {
		if errors.Is(err, crm.ErrListingCapped) {
			usable = false
			break
		}
		if err != nil {
			return classify(err)
		}
		for _, e := range entries(it) {
			if e[1] == "" {
				continue
			}
			if keys[e[0]] == nil {
				keys[e[0]] = map[string]string{}
			}
			keys[e[0]][normKey(e[1])] = e[2]
		}
	}
	ix.built, ix.builtAt, ix.usable, ix.keys = true, time.Now(), usable, keys
	return nil
}

// lookup answers from the index; ok is false when the index is not usable.
func (ix *index) lookup(kind, key string) (value string, found, ok bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if !ix.built || !ix.usable {
		return "", false, false
	}
	value, found = ix.keys[kind][normKey(key)]
	return value, found, true
}

// remember records a key written by this process.
func (ix *index) remember(kind, key, value string) {
	if key == "" {
		return
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if !ix.built {
		return
	}
	if ix.keys[kind] == nil {
		ix.keys[kind] = map[string]string{}
	}
	ix.keys[kind][normKey(key)] = value
}

// nameTaken reports a 422 that says the record's name is already used.
func nameTaken(err error) bool {
	var ce *crm.Error
	if !errors.As(err, &ce) || !errors.Is(err, crm.ErrValidation) {
		return false
	}
	if _, ok := ce.Fields["name"]; ok {
		return true
	}
	return strings.Contains(strings.ToLower(ce.Message), "name")
}
