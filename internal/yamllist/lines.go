package yamllist

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// LineError is a fault on one line of a file; Line 0: on none known.
type LineError struct {
	Line int
	Msg  string
}

// LineErrors are the faults Decode found, in the file's order.
type LineErrors []LineError

func (es LineErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Msg
		if e.Line > 0 {
			msgs[i] = fmt.Sprintf("line %d: %s", e.Line, e.Msg)
		}
	}
	return strings.Join(msgs, "; ")
}

// At words err, Decode's for the list item at path (destinations[0])
// that starts on line, naming one line per fault: its own, the exact one
// (yaml's errors name theirs), else the item's. "line 2: destinations[0]:
// line 4: ..." named two. An error of another kind that starts with its
// line ("line 5: ...", an UnmarshalYAML's) is worded so too.
func At(err error, line int, path string) error {
	var es LineErrors
	if !errors.As(err, &es) {
		e := lineError(err.Error())
		if e.Line == 0 {
			return fmt.Errorf("line %d: %s: %w", line, path, err)
		}
		es = LineErrors{e}
	}
	out := make(LineErrors, len(es))
	for i, e := range es {
		out[i] = LineError{Line: e.Line, Msg: path + ": " + e.Msg}
		if e.Line == 0 {
			out[i].Line = line
		}
	}
	return out
}

var onLine = regexp.MustCompile(`^line ([0-9]+): (.*)$`)

// lineError splits one of yaml's messages ("line 4: mapping key ...")
// into its line and what it says.
func lineError(msg string) LineError {
	if m := onLine.FindStringSubmatch(msg); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			return LineError{Line: n, Msg: m[2]}
		}
	}
	return LineError{Msg: msg}
}
