package bridge

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Options left zero take the documented defaults; set ones are kept.
func TestOptionDefaults(t *testing.T) {
	o := Options{}.withDefaults()
	if o.PageSize != 500 || o.CompleteBatch != 64 || o.MaxAttempts != 10 || o.RateLimitDelay != time.Minute ||
		o.Grace != 8*time.Second || o.Samples != 3 || o.Now == nil || o.APICalls == nil || o.APICalls() != 0 || o.Logger == nil {
		t.Errorf("defaults: %+v", o)
	}
	// The wait before attempt n+1 after n failures: 1m·2^(n-1), at most 6h.
	for n, want := range map[int]time.Duration{0: time.Minute, 1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute,
		9: 256 * time.Minute, 10: 6 * time.Hour, 11: 6 * time.Hour, 40: 6 * time.Hour} {
		if got := o.Backoff(n); got != want {
			t.Errorf("default backoff after %d failures = %v, want %v", n, got, want)
		}
	}
	set := Options{PageSize: 1, CompleteBatch: 1, MaxAttempts: 1, RateLimitDelay: time.Second, Grace: time.Second,
		Samples: 1, Backoff: func(int) time.Duration { return time.Second }}.withDefaults()
	if set.PageSize != 1 || set.CompleteBatch != 1 || set.MaxAttempts != 1 || set.RateLimitDelay != time.Second ||
		set.Grace != time.Second || set.Samples != 1 || set.Backoff(5) != time.Second {
		t.Errorf("set options changed: %+v", set)
	}
}

// Streams run after the streams they depend on, in the given order
// otherwise; an unknown or circular dependency is refused, naming it.
func TestStreamsRunInDependencyOrder(t *testing.T) {
	stream := func(name string, deps ...string) *Stream {
		return &Stream{Name: name, Source: &fakeSrc{}, Mapper: &fakeMapper{}, Target: &fakeCRM{}, Mode: ModeUpsert,
			Deletes: DeletesIgnore, DependsOn: deps}
	}
	for _, tc := range []struct {
		name    string
		streams []*Stream
		want    string // the order, or the error's text
	}{
		{"no dependencies", []*Stream{stream("a"), stream("b"), stream("c")}, "[a b c]"},
		{"dependencies first", []*Stream{stream("orders", "customers", "products"), stream("contacts", "customers"),
			stream("customers"), stream("products")}, "[customers products orders contacts]"},
		{"a chain", []*Stream{stream("c", "b"), stream("b", "a"), stream("a")}, "[a b c]"},
		{"an unknown dependency", []*Stream{stream("orders", "customers")}, "stream orders depends on unknown stream customers"},
		{"a cycle", []*Stream{stream("a", "b"), stream("b", "a")}, "streams b and a depend on each other"},
		{"twice", []*Stream{stream("a"), stream("a")}, "stream a is defined twice"},
		{"no name", []*Stream{stream("")}, "stream without a name"},
		{"no target", []*Stream{{Name: "a", Source: &fakeSrc{}, Mapper: &fakeMapper{}, Mode: ModeUpsert, Deletes: DeletesIgnore}},
			"stream a: source, mapper and target are required"},
		{"a bad mode", []*Stream{{Name: "a", Source: &fakeSrc{}, Mapper: &fakeMapper{}, Target: &fakeCRM{}, Mode: "merge",
			Deletes: DeletesIgnore}}, `stream a: unknown mode "merge"`},
		{"a bad delete policy", []*Stream{{Name: "a", Source: &fakeSrc{}, Mapper: &fakeMapper{}, Target: &fakeCRM{},
			Mode: ModeUpsert, Deletes: "purge"}}, `stream a: unknown deletes policy "purge"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := New(nil, tc.streams, Options{})
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = fmt.Sprint(e.Streams())
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
