package target

import (
	"context"
	"fmt"
	"sync"

	"github.com/erpbridge/erpbridge/bridge"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/mapping"
)

// entities keeps a target system's writers, one per entity shared by
// every stream writing it (the contacts of SU5 and of customers' own
// e-mails share one), and each entity's schema, read once per process:
// the same rules for the v1 and the v2 system.
type entities struct {
	mu      sync.Mutex
	targets map[string]bridge.Target
	opts    map[string]component.TargetOptions // entity → its target's options
	schemas map[string]mapping.Schema
}

func newEntities() entities {
	return entities{targets: map[string]bridge.Target{}, opts: map[string]component.TargetOptions{}, schemas: map[string]mapping.Schema{}}
}

// target returns entity's writer, made by mk on first use; an UpdateOnly
// stream gets one of its own.
func (s *entities) target(entity string, o component.TargetOptions, mk func(string, component.TargetOptions) (bridge.Target, error)) (bridge.Target, error) {
	if o.UpdateOnly {
		return mk(entity, component.TargetOptions{Log: o.Log})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.targets[entity]; ok {
		if was := s.opts[entity]; was.KeyField != o.KeyField || was.OmitSharedKey != o.OmitSharedKey {
			return nil, fmt.Errorf("two streams want the CRM %s target differently (%+v, %+v)", entity, s.opts[entity], o)
		}
		return t, nil
	}
	t, err := mk(entity, o)
	if err != nil {
		return nil, err
	}
	s.targets[entity], s.opts[entity] = t, o
	return t, nil
}

// schema returns entity's schema, read by read on first use.
func (s *entities) schema(ctx context.Context, entity string, read func(context.Context, string) (mapping.Schema, error)) (mapping.Schema, error) {
	s.mu.Lock()
	sc, ok := s.schemas[entity]
	s.mu.Unlock()
	if ok {
		return sc, nil
	}
	sc, err := read(ctx, entity)
	if err != nil {
		return sc, err
	}
	s.mu.Lock()
	s.schemas[entity] = sc
	s.mu.Unlock()
	return sc, nil
}
