package producer

import "fmt"

// MaxErrors is how many rejected rows a summary lists; the counts stay exact.
const MaxErrors = 1000

// Summary is what an enqueue did: the body of the HTTP answer and the last
// line of `mmlite enqueue --output json`.
type Summary struct {
	CampaignID string `json:"campaign_id"`
	Accepted   int64  `json:"accepted"`
	Duplicates int64  `json:"duplicates"`
	Rejected   int64  `json:"rejected"`
	// Suppressed counts the accepted recipients on the sender's suppression
	// list: each gets a suppressed result, without a send.
	Suppressed int64      `json:"suppressed,omitempty"`
	Errors     []RowError `json:"errors"`
	// ErrorsTruncated says that more rows were rejected than Errors lists.
	ErrorsTruncated bool `json:"errors_truncated,omitempty"`
	// DryRun says that nothing was written: the counts are what the rows
	// would give (duplicates counted within the input only).
	DryRun bool `json:"dry_run,omitempty"`
}

// Rows is the number of rows read.
func (s *Summary) Rows() int64 { return s.Accepted + s.Duplicates + s.Rejected }

func (s *Summary) reject(e RowError) {
	s.Rejected++
	if len(s.Errors) < MaxErrors {
		s.Errors = append(s.Errors, e)
	} else {
		s.ErrorsTruncated = true
	}
}

// RowError says why one row was rejected and where: the line of a file (the
// CSV header is line 1) or, for the elements of a JSON array, their index
// (from 0).
type RowError struct {
	// Line is the line of a file; for an array element, its index (kept
	// for compatibility: read Index).
	Line int `json:"line"`
	// Index is set for the elements of a JSON array (a source that
	// implements IndexedSource): the element's index, from 0.
	Index  *int   `json:"index,omitempty"`
	Reason string `json:"reason"`
}

// IndexedSource is a Source whose rows are the elements of a JSON array:
// the "line" it returns is an index from 0, and a summary's errors name it
// in RowError.Index too.
type IndexedSource interface {
	Source
	Indexed() bool
}

func indexed(src Source) bool {
	is, ok := src.(IndexedSource)
	return ok && is.Indexed()
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

func rowErr(line int, format string, a ...any) *RowError {
	return &RowError{Line: line, Reason: fmt.Sprintf(format, a...)}
}

// InputError is a problem with the input as a whole (a CSV header, broken
// JSON, a line too long, a read that failed) that stops an enqueue. Rows
// read before it are enqueued and counted in the summary.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }
