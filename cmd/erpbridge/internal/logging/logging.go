package logging

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.uber.org/zap"
	"go.uber.org/zap/buffer"
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
	// Journal prefixes console lines with their priority (<3> error, <4>
	// warning, <6> info, <7> debug), which journald reads: set it when the
	// console is the journal (JournalStream).
	Journal bool
	// System also receives every entry (it filters its own levels): the
	// Windows Event Log core of a Windows service.
	System zapcore.Core
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
		var ce zapcore.Encoder = zapcore.NewConsoleEncoder(enc)
		if o.Journal {
			ce = journalEncoder{ce}
		}
		cores = append(cores, zapcore.NewCore(ce, zapcore.AddSync(o.Console), lvl))
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
	if o.System != nil {
		cores = append(cores, o.System)
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

var bufPool = buffer.NewPool()

// journalEncoder prefixes each entry with its syslog priority, as
// sd-daemon(3) describes for a service's stderr: journald stores it as the
// entry's PRIORITY, so journalctl -p warning shows warnings and errors.
type journalEncoder struct{ zapcore.Encoder }

func (j journalEncoder) Clone() zapcore.Encoder { return journalEncoder{j.Encoder.Clone()} }

func (j journalEncoder) EncodeEntry(e zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	buf, err := j.Encoder.EncodeEntry(e, fields)
	if err != nil {
		return nil, err
	}
	out := bufPool.Get()
	out.AppendString(journalPriority(e.Level))
	_, _ = out.Write(buf.Bytes())
	buf.Free()
	return out, nil
}

// journalPriority is the sd-daemon prefix of level.
func journalPriority(l zapcore.Level) string {
	switch {
	case l >= zapcore.ErrorLevel:
		return "<3>"
	case l == zapcore.WarnLevel:
		return "<4>"
	case l == zapcore.InfoLevel:
		return "<6>"
	}
	return "<7>"
}
