package rdsim

import (
	"maps"
	"net/http"
	"sync"
)

// RequestCounts counts /api/v1 requests (never /_sim/ ones).
type RequestCounts struct {
	// Total is every request received under /api/v1, whatever its fate.
	Total int `json:"total"`
	// Reads are GET/HEAD requests; Writes every other method.
	Reads  int `json:"reads"`
	Writes int `json:"writes"`
	// AppliedWrites are writes answered 2xx (including LostResponse ones,
	// whose change was applied though the answer never left).
	AppliedWrites int `json:"applied_writes"`
	// ByRoute counts by mux pattern, e.g. "GET /api/v1/organizations/{id}";
	// requests matching no route count as "METHOD (unmatched)".
	ByRoute map[string]int `json:"by_route"`
	// ByStatus counts the status codes produced (a dropped or lost response
	// still counts the status the handler produced; a drop counts none).
	ByStatus map[int]int `json:"by_status"`
	// Faults counts injected faults by kind name ("drop", "slow", …).
	Faults map[string]int `json:"faults"`
}

type event struct {
	route, method string
	status        int
	fault         FaultKind
}

type counter struct {
	mu sync.Mutex
	c  RequestCounts
}

func newCounter() *counter {
	k := &counter{}
	k.reset()
	return k
}

func (k *counter) reset() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.c = RequestCounts{ByRoute: map[string]int{}, ByStatus: map[int]int{}, Faults: map[string]int{}}
}

func (k *counter) add(e event) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.c.Total++
	write := e.method != http.MethodGet && e.method != http.MethodHead
	if write {
		k.c.Writes++
		if e.status >= 200 && e.status < 300 {
			k.c.AppliedWrites++
		}
	} else {
		k.c.Reads++
	}
	k.c.ByRoute[e.route]++
	if e.status != 0 {
		k.c.ByStatus[e.status]++
	}
	if e.fault != FaultNone {
		k.c.Faults[e.fault.String()]++
	}
}

func (k *counter) snapshot() RequestCounts {
	k.mu.Lock()
	defer k.mu.Unlock()
	c := k.c
	c.ByRoute = maps.Clone(k.c.ByRoute)
	c.ByStatus = maps.Clone(k.c.ByStatus)
	c.Faults = maps.Clone(k.c.Faults)
	return c
}
