package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// The CRM sink answers the few RD Station CRM v1 calls a customers sync
// makes (custom fields, the organizations listing, create, update) in O(1)
// each, keeping names unique like the CRM. It was the million-row CRM while
// rdstation/rdsim checked each name against every organization; rdsim now
// indexes names and is within a few per cent of it, so the sink remains a
// floor: the bridge against a CRM that does nearly nothing. It runs as its
// own process, like the simulator.
type sink struct {
	mu     sync.Mutex
	byID   map[string]string // id → name
	byName map[string]string // folded name → id
	calls  int64
}

func newSink() *sink { return &sink{byID: map[string]string{}, byName: map[string]string{}} }

func foldName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ServeHTTP implements http.Handler.
func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	path := strings.TrimPrefix(r.URL.Path, "/api/v1")
	switch {
	case r.Method == http.MethodGet && path == "/custom_fields":
		writeJSON(w, http.StatusOK, []any{})
	case r.Method == http.MethodGet && path == "/organizations":
		// The bridge lists once to build its adoption index; the sink is
		// used from empty, so the listing is short.
		items := []map[string]string{}
		for id, name := range s.byID {
			if len(items) == 200 {
				break
			}
			items = append(items, map[string]string{"id": id, "name": name})
		}
		writeJSON(w, http.StatusOK, map[string]any{"organizations": items, "has_more": false, "total": len(s.byID)})
	case (r.Method == http.MethodPost && path == "/organizations") ||
		(r.Method == http.MethodPut && strings.HasPrefix(path, "/organizations/")):
		var body struct {
			Organization map[string]any `json:"organization"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"errors": err.Error()})
			return
		}
		name, _ := body.Organization["name"].(string)
		id := strings.TrimPrefix(path, "/organizations/")
		if r.Method == http.MethodPost {
			id = newID()
		} else if _, ok := s.byID[id]; !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"errors": "not found"})
			return
		}
		if owner, taken := s.byName[foldName(name)]; name == "" || (taken && owner != id) {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": map[string][]string{"name": {"has already been taken"}}})
			return
		}
		delete(s.byName, foldName(s.byID[id]))
		s.byID[id], s.byName[foldName(name)] = name, id
		body.Organization["id"], body.Organization["_id"] = id, id
		writeJSON(w, http.StatusOK, body.Organization)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": "the sink does not serve " + r.Method + " " + path})
	}
}

// serveSink runs the sink on addr until interrupted, printing its base URL
// the way `erpbridge sim` does.
func serveSink(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: newSink(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(os.Stdout, "CRM sink listening\n  base URL: http://%s/api/v1\n", ln.Addr())
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving the CRM sink: %w", err)
	}
	return nil
}
