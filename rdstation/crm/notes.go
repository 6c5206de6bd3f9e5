package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Note is a note on a deal: what CRM v1 calls an activity ("Anotação").
type Note struct {
	ID     string `json:"id"`
	DealID string `json:"deal_id"`
	Text   string `json:"text"`
	// UserID is the author (the token's user unless the API says otherwise).
	UserID string `json:"user_id,omitempty"`
	// CreatedAt is the API's timestamp, e.g. 2023-02-16T10:29:36.600-03:00.
	CreatedAt string `json:"created_at,omitempty"`
}

// UnmarshalJSON accepts "_id" for "id" and "date" for a missing "created_at".
func (x *Note) UnmarshalJSON(b []byte) error {
	type plain Note
	if err := decodeWithID(b, (*plain)(x), &x.ID); err != nil {
		return err
	}
	if x.CreatedAt == "" {
		var o struct {
			Date string `json:"date"`
		}
		if json.Unmarshal(b, &o) == nil {
			x.CreatedAt = o.Date
		}
	}
	return nil
}

const notesPath = "/activities"

// CreateDealNote writes a note on a deal (POST /activities). Like every
// create it is sent once: after a lost response or a 5xx it fails with
// ErrOutcomeUnknown instead of risking a duplicate note; look at DealNotes
// before writing it again. An unknown deal is ErrNotFound, a blank text
// ErrValidation. A 200 and a 201 answer are both success.
func (c *Client) CreateDealNote(ctx context.Context, dealID, text string) (Note, error) {
	if strings.TrimSpace(dealID) == "" {
		return Note{}, &Error{Kind: ErrBadRequest, Method: http.MethodPost, Path: notesPath, Message: "empty deal id"}
	}
	type activity struct {
		DealID string `json:"deal_id"`
		Text   string `json:"text"`
	}
	body := struct {
		Activity activity `json:"activity"`
	}{activity{dealID, text}}
	return write[Note](ctx, c, http.MethodPost, notesPath, body, "activity")
}

// DealNotes reads every note of a deal (GET /activities?deal_id=…), in the
// order the API lists them. It accepts the listing wrapped as
// {"activities":[…],"has_more":…,"total":…} (following pages while more
// exist) or as a bare array. An unknown deal is ErrNotFound.
func (c *Client) DealNotes(ctx context.Context, dealID string) ([]Note, error) {
	if strings.TrimSpace(dealID) == "" {
		return nil, &Error{Kind: ErrBadRequest, Method: http.MethodGet, Path: notesPath, Message: "empty deal id"}
	}
	var out []Note
	seen := 0
	for page := 1; page <= maxPages; page++ {
		q := url.Values{}
		q.Set("deal_id", dealID)
		q.Set("page", strconv.Itoa(page))
		q.Set("limit", strconv.Itoa(MaxLimit))
		r := request{method: http.MethodGet, path: notesPath, query: q}
		var raw json.RawMessage
		if err := c.do(ctx, r, &raw, ""); err != nil {
			return out, err
		}
		items, more, err := decodeNotesPage(raw)
		if err != nil {
			return out, &Error{Kind: ErrServer, Method: r.method, Path: r.path, Message: "decoding activities",
				Excerpt: c.redact(excerpt(string(raw))), Err: err}
		}
		out = append(out, items...)
		seen += len(items)
		if !more(seen) || len(items) == 0 {
			return out, nil
		}
	}
	return out, nil
}

// decodeNotesPage reads one page of notes in either shape; more reports,
// given how many notes were read so far, whether another page follows.
func decodeNotesPage(raw json.RawMessage) (items []Note, more func(seen int) bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, func(int) bool { return false }, nil
	}
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, nil, err
		}
		// A bare array carries no paging: it is the whole listing.
		return items, func(int) bool { return false }, nil
	}
	var env struct {
		Activities []Note          `json:"activities"`
		HasMore    json.RawMessage `json:"has_more"`
		Total      json.RawMessage `json:"total"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, nil, err
	}
	// Envelope extras are best effort, as in other listings: a missing or
	// mistyped one leaves the zero value.
	var hasMore bool
	var total int
	_ = json.Unmarshal(env.HasMore, &hasMore)
	_ = json.Unmarshal(env.Total, &total)
	return env.Activities, func(seen int) bool { return hasMore || total > seen }, nil
}
