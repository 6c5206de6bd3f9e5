package target

import (
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

// `erpbridge check` recognises a config pointing at the demo simulator
// (its default address or its token) and says so.
func TestSimulatorIsRecognised(t *testing.T) {
	if simulatorToken != rdsim.DefaultToken {
		t.Fatalf("simulatorToken %q is not the simulator's default token %q", simulatorToken, rdsim.DefaultToken)
	}
	tests := []struct {
		url, token, want string
	}{
		{"http://127.0.0.1:8089/api/v1", "tok-123", "demo simulator's URL"},
		{"http://localhost:8089/api/v1", "tok-123", "demo simulator's URL"},
		{"https://crm.rdstation.com/api/v1", "sim-token", "demo simulator's token"},
		{"https://crm.rdstation.com/api/v1", "tok-123", ""},
		{"http://10.0.0.5:8089/api/v1", "tok-123", ""}, // a proxy on another host is not the demo
	}
	for _, tt := range tests {
		got := (&Config{BaseURL: tt.url, Token: tt.token}).simulator()
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s %s: %q, want %q", tt.url, tt.token, got, tt.want)
		}
	}
}
