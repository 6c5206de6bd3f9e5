package target_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/oauth"
	"github.com/erpbridge/erpbridge/bridge/store"
	"github.com/erpbridge/erpbridge/rdstation/marketing/mktest"
	"github.com/erpbridge/erpbridge/rdstation/marketing/target"
	"github.com/erpbridge/erpbridge/rdstation/rdsim"
)

const callback = "https://example.com/erpbridge/callback"

// TestAuthorize: what the admin pastes back (the callback URL or only the
// code) becomes the grant in the checkpoint store, and the target system
// works with it; a used code, another authorization's answer, a refusal
// or an empty answer store nothing and say why.
func TestAuthorize(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2024, 6, 3, 10, 0, 0, 0, time.UTC))
	sim := rdsim.New(rdsim.Options{Clock: clk})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg := mktest.Config(srv.URL)
	cfg.RedirectURI = callback
	newCode := func() string {
		code, err := sim.AuthorizeMarketing(cfg.ClientID, callback)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	used := newCode()
	for _, tc := range []struct {
		name, pasted, code, wantErr string
	}{
		{name: "callback URL", pasted: callback + "?code=" + newCode() + "\n"},
		{name: "bare code", pasted: "  " + newCode() + "  \n"},
		{name: "flag", code: newCode()},
		{name: "refused", pasted: callback + "?error=access_denied\n", wantErr: "refused the app"},
		{name: "no code", pasted: callback + "?foo=1\n", wantErr: "has no code="},
		{name: "empty", pasted: "\n", wantErr: "no code given"},
		{name: "used code", code: used, wantErr: "trading the code"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := store.Open(ctx, filepath.Join(t.TempDir(), "erpbridge.db"), store.WithNow(clk.Now))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if tc.name == "used code" {
				if err := cfg.Authorize(ctx, st, used, nil, &bytes.Buffer{}, component.OpenOptions{Clock: clk}); err != nil {
					t.Fatal(err)
				}
				if err := oauth.Forget(ctx, st, target.Name); err != nil {
					t.Fatal(err)
				}
			}
			var out bytes.Buffer
			err = cfg.Authorize(ctx, st, tc.code, strings.NewReader(tc.pasted), &out, component.OpenOptions{Clock: clk})
			_, stored, lerr := oauth.Load(ctx, st, target.Name)
			if lerr != nil {
				t.Fatal(lerr)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || stored {
					t.Fatalf("err %v (stored %v), want %q and nothing stored", err, stored, tc.wantErr)
				}
				return
			}
			if err != nil || !stored {
				t.Fatalf("err %v, stored %v", err, stored)
			}
			if tc.code == "" && !strings.Contains(out.String(), "/auth/dialog?client_id=") {
				t.Fatalf("the page to open is not printed:\n%s", out.String())
			}
			sys, err := cfg.OpenTarget(ctx, component.OpenOptions{Clock: clk, Store: st})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sys.(*target.System).Fields(ctx); err != nil {
				t.Fatalf("the authorized target system: %v", err)
			}
		})
	}
}

func TestCodeOfState(t *testing.T) {
	if _, err := target.CodeOf(callback+"?code=abc&state=other", "mine"); err == nil || !strings.Contains(err.Error(), "state differs") {
		t.Fatalf("another authorization's answer: %v", err)
	}
	if code, err := target.CodeOf(callback+"?code=abc&state=mine", "mine"); err != nil || code != "abc" {
		t.Fatalf("%q, %v", code, err)
	}
}
