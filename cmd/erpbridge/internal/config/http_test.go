package config

import (
	"strings"
	"testing"
)

func TestHTTPValidation(t *testing.T) {
	const token = "0123456789abcdef"
	tests := []struct {
		name    string
		section string
		wantErr []string // substrings of the error; none = valid
	}{
		{"default is loopback without a token", "", nil},
		{"empty address turns the server off", "[http]\naddr = \"\"\n", nil},
		{"IPv6 loopback", "[http]\naddr = \"[::1]:9000\"\n", nil},
		{"localhost", "[http]\naddr = \"localhost:9000\"\n", nil},
		{"free port", "[http]\naddr = \"127.0.0.1:0\"\n", nil},
		{"every interface with a token", "[http]\naddr = \":8095\"\ntoken = \"" + token + "\"\n", nil},
		{"every interface without a token", "[http]\naddr = \"0.0.0.0:8095\"\n", []string{"http.token", "is required", "0.0.0.0:8095"}},
		{"empty host without a token", "[http]\naddr = \":8095\"\n", []string{"http.token", "is required"}},
		{"host name without a token", "[http]\naddr = \"erp-host.example:8095\"\n", []string{"http.token", "is required"}},
		{"short token", "[http]\naddr = \"0.0.0.0:8095\"\ntoken = \"short\"\n", []string{"http.token", "at least 16"}},
		{"no port", "[http]\naddr = \"127.0.0.1\"\n", []string{"http.addr", "host:port"}},
		{"port out of range", "[http]\naddr = \"127.0.0.1:70000\"\n", []string{"http.addr", "0..65535"}},
		{"port not a number", "[http]\naddr = \"127.0.0.1:http\"\n", []string{"http.addr", "0..65535"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(minimal+tt.section), env(map[string]string{"TOKEN": "secret"}))
			if err != nil {
				t.Fatal(err)
			}
			err = cfg.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted it")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "short\"") {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

func TestHTTPDefaultIsLoopback(t *testing.T) {
	h := Default().HTTP
	if !h.Enabled() || !h.Loopback() || h.Addr != DefaultHTTPAddr {
		t.Errorf("default [http] = %+v, want enabled on the loopback at %s", h, DefaultHTTPAddr)
	}
}
