package crm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestUnauthorizedCarriesTheAuthHint: every 401 — a token check, a listing,
// a write — says which setting holds the token and how to check it (the
// caller's AuthHint, or the default), and never shows the token.
func TestUnauthorizedCarriesTheAuthHint(t *testing.T) {
	a := newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{}`) })
	const wrong = "tok-WRONG-7c2e1b"
	const hint = "crm.token was refused: run `erpbridge check`"
	for _, tc := range []struct{ name, hint, want string }{
		{"caller's hint", hint, hint},
		{"default hint", "", DefaultAuthHint},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestClient(t, a, func(cfg *Config) { cfg.Token, cfg.AuthHint = wrong, tc.hint })
			ctx := context.Background()
			for _, call := range []func() error{
				func() error { _, err := c.CheckToken(ctx); return err },
				func() error { _, err := c.ListPipelines(ctx); return err },
				func() error { _, err := c.CreateOrganization(ctx, OrganizationInput{Name: "Nunca"}); return err },
			} {
				err := call()
				var e *Error
				if !errors.As(err, &e) || !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("err = %v, want an unauthorized *Error", err)
				}
				if e.Hint != tc.want || !strings.HasSuffix(err.Error(), " — "+tc.want) {
					t.Errorf("err = %q (hint %q), want it to end with the hint %q", err, e.Hint, tc.want)
				}
				if strings.Contains(err.Error(), wrong) || strings.Contains(fmt.Sprintf("%+v", err), wrong) {
					t.Errorf("err = %q shows the token", err)
				}
			}
		})
	}
	// Other failures carry no hint.
	c, _ := newTestClient(t, newTestAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, http.StatusNotFound, `{"error":"Not found"}`)
	}), func(cfg *Config) { cfg.AuthHint = hint })
	if _, err := c.CheckToken(context.Background()); err == nil || strings.Contains(err.Error(), hint) {
		t.Errorf("a 404 = %v, want no token hint", err)
	}
}
