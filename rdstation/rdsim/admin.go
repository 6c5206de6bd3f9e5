package rdsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/erpbridge/erpbridge/bridge/clock"
)

// serveAdmin serves /_sim/*: no token, never rate-limited nor counted.
func (s *Sim) serveAdmin(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + r.URL.Path
	switch route {
	case "POST /_sim/seed":
		var sd SeedData
		if !decodeAdmin(w, r, &sd) {
			return
		}
		if err := s.Seed(sd); err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, obj{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, obj{"ok": true})
	case "GET /_sim/state":
		writeJSON(w, http.StatusOK, s.State())
	case "GET /_sim/faults":
		writeJSON(w, http.StatusOK, s.Faults())
	case "PUT /_sim/faults":
		var f Faults
		if decodeAdmin(w, r, &f) {
			s.SetFaults(f)
			writeJSON(w, http.StatusOK, s.Faults())
		}
	case "GET /_sim/switches":
		writeJSON(w, http.StatusOK, s.Switches())
	case "PUT /_sim/switches":
		var sw Switches
		if decodeAdmin(w, r, &sw) {
			s.SetSwitches(sw)
			writeJSON(w, http.StatusOK, s.Switches())
		}
	case "GET /_sim/requests":
		writeJSON(w, http.StatusOK, s.Counts())
	case "DELETE /_sim/requests":
		s.ResetCounts()
		writeJSON(w, http.StatusOK, s.Counts())
	case "POST /_sim/clock/advance":
		fake, ok := s.clock.(*clock.Fake)
		if !ok {
			writeJSON(w, http.StatusConflict, obj{"error": "the simulator runs on the real clock; only a fake clock can be advanced"})
			return
		}
		by, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil || by < 0 {
			writeJSON(w, http.StatusBadRequest, obj{"error": fmt.Sprintf("by must be a non-negative duration such as 60s: %q", r.URL.Query().Get("by"))})
			return
		}
		fake.Advance(by)
		writeJSON(w, http.StatusOK, obj{"now": fake.Now().In(accountZone).Format(tsLayout)})
	case "POST /_sim/reset":
		s.Reset()
		writeJSON(w, http.StatusOK, obj{"ok": true})
	default:
		writeJSON(w, http.StatusNotFound, obj{"error": "unknown admin route " + route})
	}
}

func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 256<<20))
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, obj{"error": "decoding body: " + err.Error()})
		return false
	}
	return true
}
