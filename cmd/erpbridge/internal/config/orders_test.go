package config

import (
	"strings"
	"testing"
)

// Orders have no mapping table and no delete mark: those keys are unknown,
// named with their line, like any other.
func TestOrdersRefuseMappingKeys(t *testing.T) {
	for _, text := range []string{
		"[streams.orders]\nenabled = true\n[streams.orders.mapping.fields]\nname = \"C5_NUM\"\n",
		"[streams.orders]\ndelete_mark.name_prefix = \"x\"\n",
	} {
		_, err := Parse([]byte(text), func(string) (string, bool) { return "", false })
		if err == nil || !strings.Contains(err.Error(), "streams.orders.") || !strings.Contains(err.Error(), "line ") {
			t.Errorf("%q: err = %v, want an unknown key under streams.orders with its line", text, err)
		}
	}
}
