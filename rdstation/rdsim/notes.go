package rdsim

import (
	"net/http"
	"time"
)

// Note is a note on a deal: what CRM v1 calls an activity ("Anotação").
type Note struct {
	ID     string `json:"id"`
	DealID string `json:"deal_id"`
	Text   string `json:"text"`
	// UserID is the author; the token's user when the create names none.
	UserID    string    `json:"user_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Notes returns the notes of one deal, oldest first.
func (s *Sim) Notes(dealID string) []Note {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Note
	for _, n := range s.d.notes.all() {
		if n.DealID == dealID {
			out = append(out, *n)
		}
	}
	return out
}

func renderNote(n *Note) obj {
	return obj{"_id": n.ID, "id": n.ID, "deal_id": n.DealID, "text": n.Text, "user_id": nullable(n.UserID),
		"date": ts(n.CreatedAt), "created_at": ts(n.CreatedAt), "updated_at": ts(n.UpdatedAt)}
}

// noteCreateStatus is the status of a successful note create per
// Switches.NoteCreateStatus.
func (c *call) noteCreateStatus() int {
	if c.sw.NoteCreateStatus == http.StatusCreated {
		return http.StatusCreated
	}
	return http.StatusOK
}

// GET /activities?deal_id=…: a deal's notes, oldest first, in the usual
// envelope; without deal_id, every note of the account.
func (s *Sim) listNotes(c *call) {
	dealID := c.q.Get("deal_id")
	if dealID != "" {
		if _, ok := c.d.deals.get(dealID); !ok {
			c.notFound("Deal")
			return
		}
	}
	p, ok := c.paging(DefaultListLimit, MaxListLimit)
	if !ok {
		return
	}
	var items []*Note
	for _, n := range c.d.notes.all() {
		if dealID == "" || n.DealID == dealID {
			items = append(items, n)
		}
	}
	page, more := pageOf(items, p, false)
	out := make([]any, 0, len(page))
	for _, n := range page {
		out = append(out, renderNote(n))
	}
	c.envelope("activities", out, more, len(items))
}

// POST /activities {"activity":{"deal_id"*,"text"*,"user_id"}}: an unknown
// deal is a 404; a blank or 1-character text a 422.
func (s *Sim) createNote(c *call) {
	f, ok := c.body("activity", true)
	if !ok {
		return
	}
	n := Note{UserID: c.user, CreatedAt: c.now, UpdatedAt: c.now}
	if v, ok := f.id("deal_id"); !ok || v == "" {
		if _, typed := f.errs["deal_id"]; !typed {
			f.errs.add("deal_id", msgBlank)
		}
	} else if _, found := c.d.deals.get(v); !found {
		c.notFound("Deal")
		return
	} else {
		n.DealID = v
	}
	n.Text, _ = f.text("text", required, 0)
	if v, ok := f.id("user_id"); ok && v != "" {
		if _, found := c.d.users.get(v); !found {
			f.errs.add("user_id", msgNotFound)
		}
		n.UserID = v
	}
	if c.failed(f) {
		return
	}
	n.ID = s.newID()
	c.d.notes.add(n.ID, &n)
	c.json(c.noteCreateStatus(), renderNote(&n))
}
