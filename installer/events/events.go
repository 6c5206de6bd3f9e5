package events

import (
	"fmt"
	"strings"

	"github.com/kardianos/service"
	"go.uber.org/zap/zapcore"
)

// Sink receives events; *eventlog.Log (golang.org/x/sys/windows/svc/eventlog)
// is one. Event ids stay within 1–1000, the range EventCreate.exe (the
// source's message file) describes.
type Sink interface {
	Info(id uint32, msg string) error
	Warning(id uint32, msg string) error
	Error(id uint32, msg string) error
}

// Kind is one kind of event: the messages of Level that start with one of
// Prefixes.
type Kind struct {
	ID       uint32
	Level    zapcore.Level
	Prefixes []string
	What     string // what it means, for docs/install.md
}

// Generic ids, for a warning or an error of no listed kind.
const (
	OtherWarning uint32 = 100
	OtherError   uint32 = 200
	OtherInfo    uint32 = 10
)

// Kinds lists every event id but the generic ones. The prefixes are the
// messages erpbridge logs (a test finds each in the code).
var Kinds = []Kind{
	{1, zapcore.InfoLevel, []string{"erpbridge service started"}, "the service started (its run connects to the ERP and the CRM in the background)"},
	{2, zapcore.InfoLevel, []string{"erpbridge service stopping"}, "a stop was asked (service stop, shutdown)"},
	{3, zapcore.InfoLevel, []string{"erpbridge service stopped"}, "the service stopped gracefully"},
	{4, zapcore.InfoLevel, []string{"erpbridge service configuration"}, "version, config file, data folder and log file of this start"},
	{101, zapcore.WarnLevel, []string{"record rejected", "record deferred"}, "an ERP record was refused (bad data) or put off (the CRM refused it for now); `erpbridge errors list` shows them"},
	{102, zapcore.WarnLevel, []string{"won deal", "ERP order request failed", "the ERP rejected a won deal", "the deal of an ERP order", "writing a note on a deal"}, "a won deal could not become an ERP order yet, or its order needs attention"},
	{103, zapcore.WarnLevel, []string{"reload:"}, "a configuration reload (SIGHUP, Linux) left something for the next start"},
	{104, zapcore.WarnLevel, []string{"log.file is not set", "cannot write to the system log"}, "the service's logging is incomplete (no log file, or no Event Log source)"},
	{105, zapcore.WarnLevel, []string{"metrics:", "stopping the health server", "closing the bridge"}, "the health endpoint, metrics or shutdown had a problem"},
	{201, zapcore.ErrorLevel, []string{"run finished"}, "a stream's run failed (the ERP or the CRM unreachable, refused credentials, …); the next run tries again"},
	{202, zapcore.ErrorLevel, []string{"won deals:"}, "a won deals run or sweep failed"},
	{203, zapcore.ErrorLevel, []string{"reload:"}, "a configuration reload failed; the service goes on with the running configuration"},
	{204, zapcore.ErrorLevel, []string{"pruning the checkpoint store"}, "the nightly pruning of the checkpoint store's history failed"},
	{205, zapcore.ErrorLevel, []string{"health server", "cron:"}, "the health endpoint or the scheduler failed"},
	{210, zapcore.ErrorLevel, []string{"erpbridge service could not start"}, "the service did not start: the config or the log file could not be read (the message names the file and the problem)"},
	{211, zapcore.ErrorLevel, []string{"erpbridge service failed"}, "the run ended on its own (the data folder is locked by another erpbridge, the store cannot be opened, …); the recovery action restarts the service a minute later"},
	{212, zapcore.ErrorLevel, []string{"erpbridge service stopped with an error", "stopping:"}, "the stop did not finish cleanly"},
}

// ID is the event id of a message logged at level.
func ID(level zapcore.Level, msg string) uint32 {
	best, bestLen := uint32(0), -1
	for _, k := range Kinds {
		if k.Level != level && !(level > zapcore.ErrorLevel && k.Level == zapcore.ErrorLevel) {
			continue
		}
		for _, p := range k.Prefixes {
			if strings.HasPrefix(msg, p) && len(p) > bestLen {
				best, bestLen = k.ID, len(p)
			}
		}
	}
	if bestLen >= 0 {
		return best
	}
	switch {
	case level >= zapcore.ErrorLevel:
		return OtherError
	case level == zapcore.WarnLevel:
		return OtherWarning
	}
	return OtherInfo
}

// Logger is a service.Logger writing to a Sink with the event id of each
// message: the service's start, stop and startup errors.
type Logger struct{ Sink Sink }

var _ service.Logger = Logger{}

func (l Logger) put(level zapcore.Level, msg string) error {
	id := ID(level, msg)
	switch {
	case level >= zapcore.ErrorLevel:
		return l.Sink.Error(id, msg)
	case level == zapcore.WarnLevel:
		return l.Sink.Warning(id, msg)
	}
	return l.Sink.Info(id, msg)
}

func (l Logger) Error(v ...any) error   { return l.put(zapcore.ErrorLevel, fmt.Sprint(v...)) }
func (l Logger) Warning(v ...any) error { return l.put(zapcore.WarnLevel, fmt.Sprint(v...)) }
func (l Logger) Info(v ...any) error    { return l.put(zapcore.InfoLevel, fmt.Sprint(v...)) }
func (l Logger) Errorf(format string, a ...any) error {
	return l.put(zapcore.ErrorLevel, fmt.Sprintf(format, a...))
}
func (l Logger) Warningf(format string, a ...any) error {
	return l.put(zapcore.WarnLevel, fmt.Sprintf(format, a...))
}
func (l Logger) Infof(format string, a ...any) error {
	return l.put(zapcore.InfoLevel, fmt.Sprintf(format, a...))
}
