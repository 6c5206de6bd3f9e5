package main

// Exit codes. Scripts and service managers rely on them: keep them stable and
// keep the table in README.md in step.
const (
	ExitOK      = 0 // success
	ExitFailure = 1 // the command ran and failed (sync errors, I/O, …)
	ExitUsage   = 2 // bad flags or arguments, or an invalid configuration
	ExitPartial = 3 // a sync ran, but some records failed (see erpbridge errors)
)

// exitError carries a specific exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as a usage or configuration problem (exit 2).
func usageError(err error) error { return &exitError{code: ExitUsage, err: err} }
