package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// OpenItemsByKey returns the open outbox item (any state but done) of each
// of keys that has one, for one entity: one query for a whole page, like
// Identities. The engine uses it so that a record with a write still
// waiting is never taken for unchanged and the waiting write never goes
// out stale.
func (s *Store) OpenItemsByKey(ctx context.Context, entity string, keys []string) (map[string]OutboxItem, error) {
	out := make(map[string]OutboxItem)
	if len(keys) == 0 {
		return out, nil
	}
	arr, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("encoding outbox keys: %w", err)
	}
	items, err := s.queryItems(ctx, "reading open outbox items by key",
		`SELECT `+outboxCols+` FROM outbox WHERE state <> 'done' AND entity = ?
		 AND erp_key IN (SELECT value FROM json_each(?)) ORDER BY id`, entity, string(arr))
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		out[it.ERPKey] = it // at most one open item per key; the newest wins if not
	}
	return out, nil
}
