package streams

import (
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/component"
)

// TestOneBranchOnlyRefusesEstateKeys: a stream that reads one branch
// names filials and shared as errors instead of ignoring them.
func TestOneBranchOnlyRefusesEstateKeys(t *testing.T) {
	shared := true
	for _, tc := range []struct {
		base Base
		want []string
	}{
		{Base{Filial: "01"}, nil},
		{Base{Filials: Filials{"01", "02"}}, []string{"streams.marketing_sales.filials: not supported here: one branch"}},
		{Base{Shared: &shared}, []string{"streams.marketing_sales.shared: not supported here: one branch"}},
	} {
		v := component.NewValidation("streams.marketing_sales", func(string) string { return "" }, func(string) (component.Config, bool) { return nil, false })
		OneBranchOnly(v, &tc.base, "one branch")
		err := v.Err()
		if (err == nil) != (len(tc.want) == 0) {
			t.Fatalf("%+v: %v", tc.base, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: %v, want %q", tc.base, err, w)
			}
		}
	}
}
