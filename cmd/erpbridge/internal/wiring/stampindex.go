package wiring

import (
	"context"

	"github.com/erpbridge/erpbridge/bridge/component"
)

// VerifyStampIndexes asks the ERP component whether an index on the change
// stamp still serves every enabled stream's incremental poll
// (component.StampIndexVerifier): the tables that lack one, each with its
// fix. `erpbridge run` asks once a day, after the full pass.
func (b *Bridge) VerifyStampIndexes(ctx context.Context) []component.Finding {
	env := &component.Env{ERP: b.ERP, CRM: b.CRM, Store: b.Store, Configs: b.Config.Components()}
	var out []component.Finding
	for _, c := range component.All() {
		if component.KindOf(c) != component.KindERP {
			continue
		}
		s, _ := b.Config.Component(c.Name())
		if v, ok := s.(component.StampIndexVerifier); ok {
			out = append(out, v.VerifyStampIndexes(ctx, env)...)
		}
	}
	return out
}
