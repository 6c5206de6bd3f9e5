package crm

import (
	"context"
	"net/url"
)

// BearerSource hands out OAuth2 access tokens (CRM API v2). *oauth.Source
// (bridge/oauth, the grant kept in the checkpoint store) is one.
type BearerSource interface {
	// Token returns an access token that is not about to expire.
	Token(ctx context.Context) (string, error)
	// Expired says the server refused the access token stale; it returns
	// the token to retry with (renewing the grant unless another caller
	// already did).
	Expired(ctx context.Context, stale string) (string, error)
}

// Call sends one request relative to the base URL through the client's
// budget, retries and error mapping (see do), and decodes a 2xx JSON body
// into out when out is not nil. It is the transport of clients of other
// versions of the API (rdstation/crm/v2), so both share one set of rules:
// a POST whose answer was lost is ErrOutcomeUnknown and never resent, a
// 429 is waited out under the account's budget, a 5xx GET is retried.
func (c *Client) Call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	return c.do(ctx, request{method: method, path: path, query: query, body: body}, out, "")
}
