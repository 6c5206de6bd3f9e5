package target

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/erpbridge/erpbridge/bridge/component"
	"github.com/erpbridge/erpbridge/bridge/oauth"
	"github.com/erpbridge/erpbridge/bridge/store"
)

// Authorize walks the OAuth2 code flow with a person (`erpbridge
// marketing authorize`): it prints the page an admin of the Marketing
// account opens to let the app in, reads back the code or the whole URL
// the browser was sent to (code "" reads it from in), trades it for the
// account's grant and commits the grant in st, where the target system
// finds it. An earlier grant is replaced.
func (c *Config) Authorize(ctx context.Context, st *store.Store, code string, in io.Reader, out io.Writer, o component.OpenOptions) error {
	if !c.On {
		return errors.New("authorizing RD Station Marketing: marketing.enabled is false")
	}
	if strings.TrimSpace(c.RedirectURI) == "" {
		return errors.New("authorizing RD Station Marketing: marketing.redirect_uri is required (the app's callback URL, as registered in the RD Station App Store)")
	}
	cl, err := c.NewClient(nil, o)
	if err != nil {
		return err
	}
	state := ""
	if code == "" {
		b := make([]byte, 8)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("authorizing RD Station Marketing: %w", err)
		}
		state = hex.EncodeToString(b)
		fmt.Fprintf(out, "An admin of the RD Station Marketing account opens this page and lets the app in:\n\n  %s\n\n"+
			"The browser is then sent to %s?code=…\nPaste that address (or only the code) here and press Enter: ",
			cl.AuthorizeURL(c.RedirectURI, state), c.RedirectURI)
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && (!errors.Is(err, io.EOF) || strings.TrimSpace(line) == "") {
			return fmt.Errorf("authorizing RD Station Marketing: reading the code: %w", err)
		}
		code = line
	}
	code, err = CodeOf(code, state)
	if err != nil {
		return fmt.Errorf("authorizing RD Station Marketing: %w", err)
	}
	tok, err := cl.ExchangeCode(ctx, code)
	if err != nil {
		return fmt.Errorf("authorizing RD Station Marketing: trading the code for a grant (a code works once, for one hour): %w", err)
	}
	if err := oauth.Save(ctx, st, Name, tok); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nRD Station Marketing is authorized: the grant is in the checkpoint store (its refresh token is kept there, never in the configuration).")
	return nil
}

// CodeOf is the authorization code in what a person pasted: the code
// itself, or the callback URL with ?code=… (its state, when it has one,
// must be state; an ?error=… is the admin's refusal).
func CodeOf(pasted, state string) (string, error) {
	s := strings.TrimSpace(pasted)
	if s == "" {
		return "", errors.New("no code given")
	}
	if !strings.Contains(s, "://") && !strings.HasPrefix(s, "?") {
		return s, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("reading the pasted address: %w", err)
	}
	q := u.Query()
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("the account refused the app: %s %s", e, q.Get("error_description"))
	}
	if got := q.Get("state"); got != "" && state != "" && got != state {
		return "", errors.New("the pasted address answers another authorization (its state differs): open the page printed above and paste its answer")
	}
	code := strings.TrimSpace(q.Get("code"))
	if code == "" {
		return "", errors.New("the pasted address has no code= (paste the address the browser was sent to after letting the app in)")
	}
	return code, nil
}
