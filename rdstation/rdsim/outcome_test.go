package rdsim

import "testing"

// TestCreateAppliesOutcomeSwitch: "win" inside "deal" on POST /deals is
// ignored by default (the documented create body has none) and applied,
// as PUT applies it, with Switches.CreateAppliesOutcome.
func TestCreateAppliesOutcomeSwitch(t *testing.T) {
	tests := []struct {
		name     string
		apply    bool
		win      any
		wantWin  any
		closed   bool
		wantLost string
	}{
		{name: "default: won is ignored", win: true, wantWin: nil},
		{name: "default: lost is ignored", win: false, wantWin: nil},
		{name: "switch: created won", apply: true, win: true, wantWin: true, closed: true},
		{name: "switch: created lost with its reason", apply: true, win: false, wantWin: false, closed: true, wantLost: "reason"},
		{name: "switch: open stays open", apply: true, win: nil, wantWin: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, _ := newAPI(t, Options{Switches: Switches{CreateAppliesOutcome: tt.apply}})
			reasons := list(a.must(200, "GET", "/deal_lost_reasons", nil), "deal_lost_reasons")
			reason := str(reasons[0].(map[string]any), "_id")
			deal := map[string]any{"name": "Pedido 1", "win": tt.win}
			if tt.win == false {
				deal["deal_lost_reason_id"] = reason
			}
			got := a.must(200, "POST", "/deals", map[string]any{"deal": deal})
			if got["win"] != tt.wantWin {
				t.Errorf("win = %v, want %v", got["win"], tt.wantWin)
			}
			if closed := got["closed_at"] != nil; closed != tt.closed {
				t.Errorf("closed_at = %v, want set %v", got["closed_at"], tt.closed)
			}
			if tt.wantLost != "" && got["deal_lost_reason_id"] != reason {
				t.Errorf("deal_lost_reason_id = %v, want %s", got["deal_lost_reason_id"], reason)
			}
			read := a.must(200, "GET", "/deals/"+str(got, "id"), nil)
			if read["win"] != tt.wantWin {
				t.Errorf("read back: win = %v, want %v", read["win"], tt.wantWin)
			}
		})
	}
}
