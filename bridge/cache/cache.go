// Package cache holds the small caches the components share.
package cache

import (
	"sync"
	"time"
)

// TTL remembers values for TTL after the first is stored, then starts
// over (ERP fixes show within the ttl).
type TTL[K comparable, V any] struct {
	TTL  time.Duration
	mu   sync.Mutex
	at   time.Time
	vals map[K]V
}

// Get returns the value of key, loading and remembering it when absent.
func (c *TTL[K, V]) Get(key K, load func() (V, error)) (V, error) {
	c.mu.Lock()
	if c.vals == nil || time.Since(c.at) > c.TTL {
		c.vals, c.at = map[K]V{}, time.Now()
	}
	v, ok := c.vals[key]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	c.vals[key] = v
	c.mu.Unlock()
	return v, nil
}
