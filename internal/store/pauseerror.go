package store

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
)

// The error behind a guard's pause (a campaign's status's error): its
// title is the pause's reason and its code Meta's code behind it, as the
// worker's own campaign-fatal pause carries the answer's, so that an
// upstream system that switches on error.code tells the guards' pauses
// apart too. A template's pause has Meta's code of the template's state,
// whatever said so (a webhook, a failed status, an answer); a sender's has
// the code that paused the sender, 0 when none did (an account event, an
// operator): task.Error's "no Meta code".

// Meta's codes of a template paused and disabled.
const (
	CodeTemplatePaused = 132015
	CodeTemplateOff    = 132016
)

// templateCodes are the codes of a template's pause, by its reason's first
// word.
var templateCodes = map[string]int{campaign.PauseTemplate: CodeTemplatePaused, campaign.PauseTemplateDisabled: CodeTemplateOff}

// PauseError is the error of a guard's pause for reason: code, or, when 0,
// the template's code its reason names (0 for any other reason).
func PauseError(reason string, code int) *task.Error {
	if code == 0 {
		word, _, _ := strings.Cut(reason, ":")
		code = templateCodes[word]
	}
	return &task.Error{Code: code, Title: reason}
}

// luaPauseError defines pauseError(reason, code) for the scripts that
// pause a campaign under a guard's hold: PauseError's JSON (code a number
// or a string, false for 0). A script on the send path (the claim)
// defines it only where it pauses.
var luaPauseError = func() string {
	var codes []string
	for word, code := range templateCodes {
		codes = append(codes, fmt.Sprintf("[%q] = %d", word, code))
	}
	slices.Sort(codes)
	return `
local function pauseError(reason, code)
  code = tonumber(code) or 0
  if code == 0 then code = ({` + strings.Join(codes, ", ") + `})[string.match(reason, '^[^:]*')] or 0 end
  return cjson.encode({code = code, title = reason})
end
`
}()
