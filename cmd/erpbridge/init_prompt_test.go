package main

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// TestInitPrompts: on a terminal init asks, an empty answer takes the
// default shown, "s" (sim) and "y" say yes; without a terminal (or with
// --yes) nothing is asked and the defaults stand.
func TestInitPrompts(t *testing.T) {
	var out bytes.Buffer
	p := prompter{in: bufio.NewReader(strings.NewReader("\npostgres\ns\n\nn\n")), out: &out, interactive: true}
	if got := p.ask("Protheus company", "01"); got != "01" {
		t.Errorf("empty answer: %q, want the default", got)
	}
	if got := p.ask("Database", ""); got != "postgres" {
		t.Errorf("answer: %q", got)
	}
	if !p.confirm("Send A1_XSEGMEN?", false) || !p.confirm("Create?", true) || p.confirm("Replace?", true) {
		t.Error("confirm: want yes (s), yes (default), no")
	}
	if !strings.Contains(out.String(), "Protheus company [01]: ") || !strings.Contains(out.String(), "Replace? (Y/n)") {
		t.Errorf("questions shown: %q", out.String())
	}
	quiet := prompter{in: bufio.NewReader(strings.NewReader("no\n")), out: &out, interactive: false}
	if quiet.ask("x", "d") != "d" || !quiet.confirm("y", true) {
		t.Error("without a terminal the defaults stand")
	}
}
