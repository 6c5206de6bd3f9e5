package installer

import (
	"fmt"
	"io"

	"github.com/kardianos/service"
)

// OpenStartupLog returns the logger for service lifecycle and startup
// errors: the system log sys opens (the Windows Event Log, syslog), and
// console as well when interactive is true. It never fails: when the
// system log cannot be opened (no syslog socket, event source not
// registered) it writes to console alone and says why once.
func OpenStartupLog(sys func() (service.Logger, error), interactive bool, console io.Writer) service.Logger {
	var out multiLog
	if interactive && console != nil {
		out = append(out, writerLog{console})
	}
	sysLog, err := sys()
	if err != nil {
		if !interactive && console != nil {
			out = append(out, writerLog{console})
		}
		_ = out.Warningf("cannot write to the system log (%v): logging to the console only", err)
		return out
	}
	return append(out, sysLog)
}

// multiLog writes every entry to each of its loggers.
type multiLog []service.Logger

var _ service.Logger = multiLog(nil)

func (m multiLog) each(f func(service.Logger) error) error {
	var first error
	for _, l := range m {
		if err := f(l); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (m multiLog) Error(v ...any) error {
	return m.each(func(l service.Logger) error { return l.Error(v...) })
}

func (m multiLog) Warning(v ...any) error {
	return m.each(func(l service.Logger) error { return l.Warning(v...) })
}

func (m multiLog) Info(v ...any) error {
	return m.each(func(l service.Logger) error { return l.Info(v...) })
}

func (m multiLog) Errorf(format string, a ...any) error {
	return m.each(func(l service.Logger) error { return l.Errorf(format, a...) })
}

func (m multiLog) Warningf(format string, a ...any) error {
	return m.each(func(l service.Logger) error { return l.Warningf(format, a...) })
}

func (m multiLog) Infof(format string, a ...any) error {
	return m.each(func(l service.Logger) error { return l.Infof(format, a...) })
}

// writerLog writes "level: message" lines to w.
type writerLog struct{ w io.Writer }

var _ service.Logger = writerLog{}

func (l writerLog) put(level, msg string) error {
	_, err := fmt.Fprintf(l.w, "%s: %s\n", level, msg)
	return err
}

func (l writerLog) Error(v ...any) error   { return l.put("error", fmt.Sprint(v...)) }
func (l writerLog) Warning(v ...any) error { return l.put("warning", fmt.Sprint(v...)) }
func (l writerLog) Info(v ...any) error    { return l.put("info", fmt.Sprint(v...)) }
func (l writerLog) Errorf(format string, a ...any) error {
	return l.put("error", fmt.Sprintf(format, a...))
}
func (l writerLog) Warningf(format string, a ...any) error {
	return l.put("warning", fmt.Sprintf(format, a...))
}
func (l writerLog) Infof(format string, a ...any) error {
	return l.put("info", fmt.Sprintf(format, a...))
}
