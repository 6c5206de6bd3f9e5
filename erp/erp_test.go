package erp

import (
	"testing"
	"time"
)

func TestPollFrom(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	past := now.Add(-time.Hour)
	future := now.Add(24 * 365 * time.Hour)
	tests := []struct {
		name string
		last *time.Time
		want time.Time
	}{
		{"from the beginning", nil, StampFloor},
		{"overlap behind the cursor", &past, past.Add(-2 * time.Minute)},
		{"a future stamp is capped at now", &future, now.Add(-2 * time.Minute)},
	}
	for _, tt := range tests {
		if got := PollFrom(tt.last, 2*time.Minute, now); !got.Equal(tt.want) {
			t.Errorf("%s: PollFrom = %v, want %v", tt.name, got, tt.want)
		}
	}
}
