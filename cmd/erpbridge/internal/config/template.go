package config

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// PlaceholderPrefix starts a value the packaged template leaves to be
// filled in: a string value starting with it fails validation with "fill
// in KEY", so an installed config never runs against the demo's values.
const PlaceholderPrefix = "<fill in"

// placeholders returns "KEY: TEXT" for every string value of raw (decoded
// TOML) that starts with PlaceholderPrefix, in key order.
func placeholders(raw map[string]any, prefix string) []string {
	var out []string
	for k, v := range raw {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch x := v.(type) {
		case string:
			if strings.HasPrefix(x, PlaceholderPrefix) {
				out = append(out, key+"\x00"+x)
			}
		case map[string]any:
			out = append(out, placeholders(x, key)...)
		}
	}
	slices.Sort(out)
	return out
}

// templateEdits turn config.example.toml (the demo's config) into the
// packaged template: each demo value becomes the production default or a
// placeholder, and the header says what the file is.
var templateEdits = []struct{ from, to string }{
	{"# This file runs as is against the demo: start `erpbridge sim --addr\n" +
		"# 127.0.0.1:8089 --token sim-token` in one terminal, build the demo ERP with\n" +
		"# `erpbridge demo --dir demo-data` in another, then\n" +
		"#   erpbridge validate -c config.example.toml\n" +
		"#   erpbridge check -c config.example.toml\n",
		"# This is the packages' template: the values marked \"<fill in …>\" must be\n" +
			"# set before the service starts (`erpbridge validate` names each one), then\n" +
			"#   erpbridge validate -c THIS_FILE\n" +
			"#   erpbridge check -c THIS_FILE\n" +
			"# The demo (erpbridge demo, erpbridge sim) keeps config.example.toml of the\n" +
			"# source tree; its simulator's URL and token do not belong here.\n"},
	{"# RD Station CRM API v1 (default https://crm.rdstation.com/api/v1; here the\n# demo simulator on 127.0.0.1:8089).\n",
		"# RD Station CRM API v1.\n"},
	{"base_url = \"http://127.0.0.1:8089/api/v1\"\n", "base_url = \"https://crm.rdstation.com/api/v1\"\n"},
	{"# The API token of the integration user (no default). The demo simulator\n# accepts \"sim-token\"; in production write token = \"${secret:RDSTATION_CRM_TOKEN}\".\n",
		"# The API token of the integration user (no default). Store it with\n# `erpbridge secret set RDSTATION_CRM_TOKEN -c THIS_FILE` and write\n# token = \"${secret:RDSTATION_CRM_TOKEN}\".\n"},
	{"token = \"sim-token\"\n", "token = \"<fill in: the integration user's API token, as the secret reference above>\"\n"},
	{"driver = \"sqlite\"\n", "driver = \"<fill in: postgres, sqlserver or oracle>\"\n"},
	{"# Connection string (no default; here the demo's SQLite file).", "# Connection string (no default)."},
	{"dsn = \"demo-data/erp.db\"\n", "dsn = \"<fill in: the ERP database connection string (examples above)>\"\n"},
}

// Template returns the packaged config template made from the demo's
// config.example.toml (installer/packaging/erpbridge.toml): every option
// commented as in the example, the demo's URL, token, driver and database
// replaced. It fails when the example no longer holds a line it replaces.
func Template(example []byte) ([]byte, error) {
	out := bytes.ReplaceAll(example, []byte("\r\n"), []byte("\n"))
	for _, e := range templateEdits {
		if !bytes.Contains(out, []byte(e.from)) {
			return nil, fmt.Errorf("making the packaged template: config.example.toml no longer has %q", strings.TrimSpace(e.from))
		}
		out = bytes.Replace(out, []byte(e.from), []byte(e.to), 1)
	}
	return out, nil
}
