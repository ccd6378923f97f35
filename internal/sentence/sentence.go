// Package sentence makes the errors a user reads (an API answer's
// "error", the CLI's last line, the console's message) read as sentences
// that say what and which, while a caller still tells them apart by their
// sentinel: campaign.ErrNotFound is "campaign: not found" for Go and the
// logs, and the user reads "campaign spring not found".
package sentence

import "fmt"

// Of returns an error that reads as fmt.Errorf(format, a...) does (its %w
// operands wrapped as fmt.Errorf wraps them), and that errors.Is and
// errors.As find kind in too.
func Of(kind error, format string, a ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, a...)}
}

type kindError struct{ kind, err error }

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }
