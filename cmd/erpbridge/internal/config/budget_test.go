package config

import (
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/components"
)

// TestBudgetWindowsAreValidatedWithKeyAndLine: [crm.budget] is read
// strictly, and every bad window is named with its key and line.
func TestBudgetWindowsAreValidatedWithKeyAndLine(t *testing.T) {
	tests := []struct {
		name   string
		budget string
		want   []string // in the error; nil: valid
	}{
		{name: "a night window in São Paulo", budget: `time_zone = "America/Sao_Paulo"
windows = [{ from = "20:00", to = "06:00", requests_per_minute = 115 }]`},
		{name: "two windows, one to midnight", budget: `windows = [
  { from = "12:00", to = "13:00", requests_per_minute = 110 },
  { from = "22:00", to = "24:00", requests_per_minute = 119 },
]`},
		{name: "unknown zone", budget: `time_zone = "Mars/Olympus"`,
			want: []string{"line 9: crm.budget.time_zone:", "Mars/Olympus"}},
		{name: "bad time", budget: `windows = [{ from = "8pm", to = "06:00", requests_per_minute = 115 }]`,
			want: []string{"line 9: crm.budget.windows:", "window 1 (8pm-06:00)", `"8pm" is not a time of day`}},
		{name: "rate at the account's limit", budget: `windows = [{ from = "20:00", to = "06:00", requests_per_minute = 120 }]`,
			want: []string{"line 9: crm.budget.windows:", "outside 1..119"}},
		{name: "overlap", budget: `windows = [
  { from = "20:00", to = "06:00", requests_per_minute = 115 },
  { from = "05:00", to = "07:00", requests_per_minute = 110 },
]`, want: []string{"line 9: crm.budget.windows:", "window 2 (05:00-07:00) overlaps window 1 at 05:00"}},
		{name: "a whole day", budget: `windows = [{ from = "06:00", to = "06:00", requests_per_minute = 110 }]`,
			want: []string{"crm.budget.windows:", "same time"}},
		{name: "unknown key in a window", budget: `windows = [{ from = "20:00", until = "06:00", requests_per_minute = 110 }]`,
			want: []string{"line 9", `unknown key "crm.budget.windows.until"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := minimal + "\n[crm.budget]\n" + tt.budget + "\n"
			cfg, err := Parse([]byte(text), env(map[string]string{"TOKEN": "t"}))
			if err == nil {
				err = cfg.Validate()
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v\n%s", err, text)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted:\n%s", text)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestCatalogTTLDefaultsToAnHour(t *testing.T) {
	cfg, err := Parse([]byte(minimal), env(map[string]string{"TOKEN": "t"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := components.CRM(cfg).CatalogTTL.D(); got != time.Hour {
		t.Errorf("catalog_ttl = %v, want 1h", got)
	}
}
