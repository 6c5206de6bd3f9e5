package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateTemplate = flag.Bool("update-template", false, "rewrite installer/packaging/erpbridge.toml from config.example.toml")

// The packages install installer/packaging/erpbridge.toml: config.example.toml
// with the demo's URL, token, driver and database replaced. It stays in step
// with the example, never points at the simulator, and fails validation
// naming each value to fill in.
func TestPackagedTemplate(t *testing.T) {
	root := filepath.Join("..", "..", "..", "..")
	example, err := os.ReadFile(filepath.Join(root, "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Template(example)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "installer", "packaging", "erpbridge.toml")
	if *updateTemplate {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not the template of config.example.toml: go test ./cmd/erpbridge/internal/config -run TestPackagedTemplate -update-template", path)
	}
	for _, demo := range []string{"127.0.0.1:8089", `"sim-token"`, "demo-data/erp.db", `driver = "sqlite"`} {
		if bytes.Contains(got, []byte(demo)) {
			t.Errorf("the template still holds the demo's %s", demo)
		}
	}

	cfg, err := Parse(got, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("the template does not parse: %v", err)
	}
	verr := cfg.Validate()
	if verr == nil {
		t.Fatal("the template validates: it would run with placeholders")
	}
	msg := verr.Error()
	for _, key := range []string{"crm.token", "erp.dsn", "erp.driver"} {
		if !strings.Contains(msg, key+": fill in "+key+": ") {
			t.Errorf("validation does not say to fill in %s:\n%s", key, msg)
		}
	}
	if n := strings.Count(msg, "\n") + 1; n != 3 {
		t.Errorf("validation says %d things, want only the 3 values to fill in:\n%s", n, msg)
	}
	if !strings.Contains(msg, "line ") {
		t.Errorf("validation does not give the lines:\n%s", msg)
	}
}
