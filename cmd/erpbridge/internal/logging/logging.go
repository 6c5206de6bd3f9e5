// Package logging builds erpbridge's logger: readable text on the console,
// JSON lines in a rotated file. Secrets never reach it: the CRM client and
// the config redact tokens and passwords before anything is logged.
package logging

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"gopkg.in/natefinch/lumberjack.v2"
)

// Options configure New.
type Options struct {
	Level      string    // debug | info | warn | error (default info)
	Console    io.Writer // readable text; nil = no console output
	File       string    // JSON log file; empty = none
	MaxSizeMB  int
	MaxAgeDays int
	MaxBackups int
}

// New returns the logger and a function that flushes and closes it.
func New(o Options) (*zap.Logger, func(), error) {
	lvl := zapcore.InfoLevel
	if o.Level != "" {
		if err := lvl.UnmarshalText([]byte(o.Level)); err != nil {
			return nil, nil, fmt.Errorf("parsing log level %q: %w", o.Level, err)
		}
	}
	var cores []zapcore.Core
	if o.Console != nil {
		enc := zap.NewDevelopmentEncoderConfig()
		enc.EncodeTime = zapcore.TimeEncoderOfLayout("2006-01-02 15:04:05")
		enc.EncodeCaller = nil
		enc.CallerKey = ""
		enc.StacktraceKey = ""
		cores = append(cores, zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(o.Console), lvl))
	}
	var rot *lumberjack.Logger
	if o.File != "" {
		if err := os.MkdirAll(filepath.Dir(o.File), 0o750); err != nil {
			return nil, nil, fmt.Errorf("creating log folder: %w", err)
		}
		rot = &lumberjack.Logger{Filename: o.File, MaxSize: o.MaxSizeMB, MaxAge: o.MaxAgeDays, MaxBackups: o.MaxBackups}
		enc := zap.NewProductionEncoderConfig()
		enc.EncodeTime = zapcore.ISO8601TimeEncoder
		cores = append(cores, zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(rot), lvl))
	}
	if len(cores) == 0 {
		return zap.NewNop(), func() {}, nil
	}
	log := zap.New(zapcore.NewTee(cores...))
	return log, func() {
		_ = log.Sync()
		if rot != nil {
			_ = rot.Close()
		}
	}, nil
}
