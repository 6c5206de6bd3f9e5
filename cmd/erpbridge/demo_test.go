package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestDemoShowsBothDirections runs the README's first command in process:
// the demo must sync, write nothing on the second pass, move an invoiced
// order's deal to won, and turn a won deal into an ERP order whose number
// shows on the deal.
func TestDemoShowsBothDirections(t *testing.T) {
	var out bytes.Buffer
	if err := runDemo(context.Background(), &out, t.TempDir(), false); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	second := text[strings.Index(text, "2. Second sync"):strings.Index(text, "3. Third sync")]
	for _, line := range strings.Split(second, "\n")[2:6] {
		if f := strings.Fields(line); len(f) == 8 && (f[2] != "0" || f[3] != "0" || f[7] != "0") {
			t.Errorf("second sync wrote something: %q", line)
		}
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`"Pedido 000001 · [^"]+": stage "Sem contato", open, 3 products, order number field "000001"`),
		regexp.MustCompile(`"Pedido 000001 · [^"]+": stage "Proposta enviada", won`),
		regexp.MustCompile(`; 1 staged in ZB1010/ZB2010 for the ERP job`),
		regexp.MustCompile(`the deal's "Pedido ERP" field now reads "\d{6}"`),
		regexp.MustCompile(` 0 answered 429`),
	} {
		if !want.MatchString(text) {
			t.Errorf("demo output lacks %q\n%s", want, text)
		}
	}
	if strings.Contains(text, "orders    01|") {
		t.Errorf("the demo lists an order as an error:\n%s", text)
	}
}
