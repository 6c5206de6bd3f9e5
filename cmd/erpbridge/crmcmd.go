package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/erpbridge/erpbridge/bridge/oauth"
	"github.com/erpbridge/erpbridge/cmd/erpbridge/internal/wiring"
	"github.com/erpbridge/erpbridge/rdstation/crm/target"
	crmv2 "github.com/erpbridge/erpbridge/rdstation/crm/v2"
)

// authorizeWait bounds how long `crm authorize` waits for the browser.
const authorizeWait = 10 * time.Minute

func newCRMCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "crm",
		Short: "RD Station CRM account tasks",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCRMAuthorizeCmd())
	return cmd
}

func newCRMAuthorizeCmd() *cobra.Command {
	var path, code string
	cmd := &cobra.Command{
		Use:   "authorize",
		Short: "Let the bridge into RD Station CRM API v2 (OAuth) and keep the grant",
		Long: `With crm.api = "v2", obtain the OAuth grant once: open the printed address
in a browser, log in to RD Station as an admin and allow the app. The grant
(access and refresh token) is kept in the checkpoint store in data_dir, never
in the configuration, and refreshed there; run this again only when the bridge
says the grant was refused (a refresh token unused for 14 days dies).

With crm.redirect_uri on http://127.0.0.1 or localhost the command receives
the browser's answer itself. Otherwise paste the address the browser landed
on (or its code); or pass --code.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(path)
			if err != nil {
				return err
			}
			s, _ := cfg.Component(target.Name)
			tc := s.(*target.Config)
			if tc.API != target.APIv2 {
				return usageError(fmt.Errorf("crm.api is %q: set api = %q, client_id and client_secret in [crm] first", tc.API, target.APIv2))
			}
			app, err := tc.App(target.Options{})
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), authorizeWait)
			defer cancel()
			out := cmd.OutOrStdout()
			if code == "" {
				if code, err = obtainCode(ctx, app, tc.RedirectURI, cmd.InOrStdin(), out); err != nil {
					return err
				}
			}
			grant, err := app.Exchange(ctx, code, tc.RedirectURI)
			if err != nil {
				return fmt.Errorf("exchanging the authorization code: %w", err)
			}
			st, err := wiring.OpenStore(ctx, cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := oauth.Save(ctx, st, crmv2.GrantName, grant); err != nil {
				return err
			}
			fmt.Fprintf(out, "authorized: the grant is kept in %s\n", st.Path())
			c, err := tc.NewV2Client(st, target.Options{})
			if err != nil {
				return err
			}
			for _, err := range c.Organizations(ctx, crmv2.Query{PageSize: 1}) {
				if err != nil {
					return fmt.Errorf("trying the grant: %w", err)
				}
				break
			}
			fmt.Fprintln(out, "the grant works: organizations can be read through CRM API v2")
			return nil
		},
	}
	configFlag(cmd, &path)
	cmd.Flags().StringVar(&code, "code", "", "an authorization code already obtained (valid 5 minutes)")
	return cmd
}

// obtainCode sends the user to the authorization page and returns the
// code: received on a loopback redirect URI, or pasted.
func obtainCode(ctx context.Context, app *crmv2.App, redirectURI string, in io.Reader, out io.Writer) (string, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	state := hex.EncodeToString(b[:])
	authURL := app.AuthorizeURL(redirectURI, state)
	ru, _ := url.Parse(redirectURI)
	if ru.Scheme == "http" && (ru.Hostname() == "127.0.0.1" || ru.Hostname() == "localhost" || ru.Hostname() == "::1") {
		return receiveCode(ctx, ru, state, authURL, out)
	}
	fmt.Fprintf(out, "Open this address in a browser, log in to RD Station as an admin and allow the app:\n\n  %s\n\n", authURL)
	fmt.Fprint(out, "Then paste the address the browser landed on (or the code): ")
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("reading the code: %w", err)
	}
	return codeFrom(strings.TrimSpace(line), state)
}

// codeFrom reads the code from a pasted redirect address (checking its
// state) or a bare code.
func codeFrom(s, state string) (string, error) {
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		q := u.Query()
		if e := q.Get("error"); e != "" {
			return "", fmt.Errorf("RD Station did not authorize the app: %s", e)
		}
		if q.Get("state") != state {
			return "", errors.New("the address's state does not match this authorization: start again")
		}
		s = q.Get("code")
	}
	if s == "" {
		return "", errors.New("no code given")
	}
	return s, nil
}

// receiveCode serves the redirect URI on its loopback address until the
// browser arrives with the code.
func receiveCode(ctx context.Context, ru *url.URL, state, authURL string, out io.Writer) (string, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", ru.Host)
	if err != nil {
		return "", fmt.Errorf("listening on the redirect URI's %s: %w", ru.Host, err)
	}
	type answer struct {
		code string
		err  error
	}
	got := make(chan answer, 1)
	path := ru.Path
	if path == "" {
		path = "/"
	}
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		code, err := codeFrom("http://"+r.Host+r.URL.RequestURI(), state)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<p>erpbridge: %s</p>", html.EscapeString(err.Error()))
		} else {
			fmt.Fprint(w, "<p>erpbridge is authorized. You can close this window.</p>")
		}
		select {
		case got <- answer{code, err}:
		default:
		}
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	fmt.Fprintf(out, "Open this address in a browser, log in to RD Station as an admin and allow the app:\n\n  %s\n\nWaiting for the browser on %s …\n", authURL, ru.Host)
	select {
	case a := <-got:
		return a.code, a.err
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for the browser: %w", ctx.Err())
	}
}
