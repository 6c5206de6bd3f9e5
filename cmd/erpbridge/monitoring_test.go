package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/erpbridge/erpbridge/bridge/health"
)

// exprs returns every "expr" string anywhere in a decoded JSON value.
func exprs(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "expr" {
				out = append(out, s)
			}
			out = append(out, exprs(e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, exprs(e)...)
		}
	}
	return out
}

var metricName = regexp.MustCompile(`\berpbridge_[a-z_]+`)

// The Grafana dashboard and the Prometheus alert rules in monitoring/ are
// valid and use only metrics erpbridge exports (CI also runs promtool
// check rules when it can install it).
func TestDashboardAndAlertsUseExportedMetrics(t *testing.T) {
	dash, err := os.ReadFile("../../monitoring/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(dash, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	if d["title"] == nil || d["panels"] == nil {
		t.Fatal("the dashboard has no title or panels")
	}
	used := exprs(d)
	rules, err := os.ReadFile("../../monitoring/prometheus-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	alerts := 0
	for line := range strings.Lines(string(rules)) {
		line = strings.TrimSpace(line)
		if e, ok := strings.CutPrefix(line, "expr:"); ok {
			used = append(used, e)
		}
		if strings.HasPrefix(line, "- alert:") {
			alerts++
		}
	}
	if alerts < 5 {
		t.Errorf("%d alert rules, want at least down, failing, lag, parked and budget", alerts)
	}

	e := newHealthEnv(t, health.Options{})
	e.sync("customers")
	_, body := get(t, e.url+"/metrics", "")
	var names []string
	for _, x := range used {
		names = append(names, metricName.FindAllString(x, -1)...)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) < 8 {
		t.Fatalf("only %d metric names found in the dashboard and rules: %v", len(names), names)
	}
	for _, n := range names {
		if !strings.Contains(body, "\n"+n+"{") && !strings.Contains(body, "\n"+n+" ") {
			t.Errorf("%s is used by the dashboard or the alerts but not exported", n)
		}
	}
}

// promtool (from Debian's prometheus, installed by .ci/run when it can be)
// finds the rules valid and /metrics clean of lint problems.
func TestPromtoolChecksRulesAndMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("runs promtool (skipped under -short)")
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH (apt-get install prometheus); TestDashboardAndAlertsUseExportedMetrics still checks names")
	}
	if out, err := exec.Command(promtool, "check", "rules", "../../monitoring/prometheus-alerts.yml").CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
	e := newHealthEnv(t, health.Options{})
	e.sync("customers")
	_, body := get(t, e.url+"/metrics", "")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
