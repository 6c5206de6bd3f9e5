package crmtarget

import (
	"context"
	"errors"
	"iter"
	"strings"
	"sync"

	"github.com/erpbridge/erpbridge/rdstation/crm"
)

// index maps natural keys to CRM ids, built by listing the CRM once. RD
// Station cannot filter by most natural keys, so one listing (N/200 calls)
// replaces a search per created record. A listing that hits the 10,000-record
// cap leaves the index unusable and every lookup goes to the CRM.
type index struct {
	mu     sync.Mutex
	built  bool
	usable bool
	keys   map[string]map[string]string // kind → key → id
}

// normKey folds a natural key for comparison.
func normKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// build lists the CRM once; keysOf returns the (kind, key) pairs of an item.
func build[T any](ctx context.Context, ix *index, seq iter.Seq2[T, error], idOf func(T) string, keysOf func(T) [][2]string) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.built {
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
		for _, kv := range keysOf(it) {
			if kv[1] == "" {
				continue
			}
			if keys[kv[0]] == nil {
				keys[kv[0]] = map[string]string{}
			}
			keys[kv[0]][normKey(kv[1])] = idOf(it)
		}
	}
	ix.built, ix.usable, ix.keys = true, usable, keys
	return nil
}

// lookup answers from the index; ok is false when the index is not usable.
func (ix *index) lookup(kind, key string) (id string, found, ok bool) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if !ix.built || !ix.usable {
		return "", false, false
	}
	id, found = ix.keys[kind][normKey(key)]
	return id, found, true
}

// remember records a key written by this process.
func (ix *index) remember(kind, key, id string) {
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
	ix.keys[kind][normKey(key)] = id
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
