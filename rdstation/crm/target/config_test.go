package target

import (
	"strings"
	"testing"
)

func TestTokenRefusedSaysWhatToCheck(t *testing.T) {
	for _, tc := range []struct{ token, why string }{
		{"f3e9c1d0a7b6-WRONG", "wrong, was regenerated"},
		{"${CRM_TOKEN_X7}", "not expanded"},
		{"$CRM_TOKEN_X7", "not expanded"},
		{"%CRM_TOKEN_X7%", "not expanded"},
		{"f3e9c1d0a7b6\r", "line break"},
		{"\"f3e9c1d0a7b6\"", "quote"},
		{"", "empty"},
	} {
		msg := (&Config{Token: tc.token}).TokenRefused()
		for _, want := range []string{"crm.token was refused", tc.why, "erpbridge check", "Perfil"} {
			if !strings.Contains(msg, want) {
				t.Errorf("token %q: %q does not mention %q", tc.token, msg, want)
			}
		}
		if tc.token != "" && strings.Contains(msg, strings.Trim(tc.token, "\r\"${}%")) {
			t.Errorf("token %q: %q shows the token", tc.token, msg)
		}
	}
}
