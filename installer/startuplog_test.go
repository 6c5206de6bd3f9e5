package installer

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/kardianos/service"
)

func TestStartupLog(t *testing.T) {
	tests := []struct {
		name                 string
		interactive          bool
		sysErr               error
		wantConsole, wantSys []string
	}{
		{"service: system log only", false, nil, nil, []string{"error: reading config: bad"}},
		{"interactive: console too", true, nil,
			[]string{"error: reading config: bad"}, []string{"error: reading config: bad"}},
		{"no system log: console, saying why", false, errors.New("Unix syslog delivery error"),
			[]string{"warning: cannot write to the system log (Unix syslog delivery error)", "error: reading config: bad"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := &recordLog{}
			var console bytes.Buffer
			var svcLog service.Logger = sys
			if tt.sysErr != nil {
				svcLog = nil
			}
			l := OpenStartupLog(func() (service.Logger, error) { return svcLog, tt.sysErr }, tt.interactive, &console)
			_ = l.Errorf("reading config: %s", "bad")
			for _, w := range tt.wantConsole {
				if !strings.Contains(console.String(), w) {
					t.Errorf("console lacks %q:\n%s", w, console.String())
				}
			}
			if len(tt.wantConsole) == 0 && console.Len() > 0 {
				t.Errorf("console got %q", console.String())
			}
			for _, w := range tt.wantSys {
				if !strings.Contains(sys.text(), w) {
					t.Errorf("system log lacks %q:\n%s", w, sys.text())
				}
			}
		})
	}
}
