package crm

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

const (
	// MaxReachable is how many records of a deals, organizations or
	// contacts listing the API serves; later pages are out of reach.
	MaxReachable = 10000
	// MaxLimit is the largest page size the API accepts.
	MaxLimit = 200
	// maxPages bounds any iteration, whatever the server answers.
	maxPages = 100000
)

// Page is one page of a listing.
type Page[T any] struct {
	// Items are the records of this page.
	Items []T
	// HasMore reports whether the API says more records follow.
	HasMore bool
	// Total is the number of records matching the query, when reported.
	Total int
	// NextPage is the deals listing's opaque cursor, when sent.
	NextPage string
}

// listing describes how to page through one resource.
type listing struct {
	path     string
	key      string     // envelope key, e.g. "organizations"
	query    url.Values // filters, without page/limit
	page     int        // first page (default 1)
	limit    int        // page size (default MaxLimit)
	capped   bool       // subject to the 10,000-record cap
	maxLimit int        // the resource's largest page size (default MaxLimit)
	cursor   string     // a next_page cursor to start from (deals)
}

func (l listing) values(page int, cursor string) url.Values {
	q := url.Values{}
	for k, v := range l.query {
		q[k] = v
	}
	if cursor != "" {
		q.Set("next_page", cursor)
	} else {
		q.Set("page", strconv.Itoa(page))
	}
	q.Set("limit", strconv.Itoa(l.limit))
	return q
}

func (l *listing) defaults() {
	if l.maxLimit <= 0 {
		l.maxLimit = MaxLimit
	}
	if l.limit <= 0 || l.limit > l.maxLimit {
		l.limit = l.maxLimit
	}
	if l.page <= 0 {
		l.page = 1
	}
}

// fetchPage reads one page of a listing.
func fetchPage[T any](ctx context.Context, c *Client, l listing, page int, cursor string) (Page[T], error) {
	var env map[string]json.RawMessage
	r := request{method: http.MethodGet, path: l.path, query: l.values(page, cursor)}
	if err := c.do(ctx, r, &env, ""); err != nil {
		return Page[T]{}, err
	}
	var p Page[T]
	if raw, ok := env[l.key]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &p.Items); err != nil {
			return Page[T]{}, &Error{Kind: ErrServer, Method: r.method, Path: r.path, Message: "decoding " + l.key, Err: err}
		}
	}
	// Envelope extras are best effort: a wrong type leaves the zero value.
	if raw, ok := env["has_more"]; ok {
		_ = json.Unmarshal(raw, &p.HasMore)
	}
	if raw, ok := env["total"]; ok {
		_ = json.Unmarshal(raw, &p.Total)
	}
	if raw, ok := env["next_page"]; ok {
		_ = json.Unmarshal(raw, &p.NextPage)
	}
	return p, nil
}

// listPage reads the page l.page of a listing.
func listPage[T any](ctx context.Context, c *Client, l listing) (Page[T], error) {
	l.defaults()
	return fetchPage[T](ctx, c, l, l.page, "")
}

// iterate yields every record of a listing, page after page. A capped
// listing that stops at the API's cap while more records exist ends with a
// *ListingCappedError. useCursor follows the deals listing's next_page.
func iterate[T any](ctx context.Context, c *Client, l listing, useCursor bool) iter.Seq2[T, error] {
	l.defaults()
	return func(yield func(T, error) bool) {
		var zero T
		seen := (l.page - 1) * l.limit
		cursor := l.cursor
		total := 0
		for page := l.page; page < l.page+maxPages; page++ {
			p, err := fetchPage[T](ctx, c, l, page, cursor)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range p.Items {
				if !yield(it, nil) {
					return
				}
			}
			seen += len(p.Items)
			if p.Total > 0 {
				total = p.Total
			}
			more := p.HasMore || total > seen
			if !more {
				return
			}
			if useCursor && p.NextPage != "" {
				cursor = p.NextPage
			} else {
				cursor = ""
			}
			stuck := len(p.Items) == 0
			atCap := l.capped && cursor == "" && page*l.limit >= MaxReachable
			if stuck || atCap {
				if l.capped || stuck && seen >= MaxReachable {
					yield(zero, &ListingCappedError{Path: l.path, Reached: seen, Total: total})
				}
				return
			}
		}
	}
}

// setIf adds key=v to q when v is not empty.
func setIf(q url.Values, key, v string) {
	if v != "" {
		q.Set(key, v)
	}
}

// setBool adds key=true/false to q when v is set.
func setBool(q url.Values, key string, v *bool) {
	if v != nil {
		q.Set(key, strconv.FormatBool(*v))
	}
}
