package campaign

import (
	"errors"
	"time"

	"github.com/mmlite/mmlite/pkg/task"
)

// DefaultRetention is how long a campaign's keys outlive its final state
// (completed, or finished after a cancel) before Redis drops them and it
// leaves the index. A campaign that never reaches one is dropped that long
// after its expires_at or, without one, DefaultLifetime after its creation
// or its send_at, whichever comes later.
const (
	DefaultRetention = 30 * 24 * time.Hour
	DefaultLifetime  = 30 * 24 * time.Hour
)

// State is where a campaign stands in its life (see docs/campaigns.md).
type State string

// States of a campaign. StateScheduled is not stored: it is a running
// campaign whose send_at has not come yet.
const (
	StateScheduled State = "scheduled"
	StateRunning   State = "running"
	StatePaused    State = "paused"
	StateCancelled State = "cancelled"
	StateCompleted State = "completed"
)

// Final reports whether nothing moves the campaign out of the state any more.
func (s State) Final() bool { return s == StateCompleted || s == StateCancelled }

// Why a campaign was paused: the first word of its paused_reason.
const (
	PauseOperator      = "operator"
	PauseCampaignFatal = "campaign_fatal"
	PauseFailureRatio  = "failure_ratio"
	PauseOnboarding    = "onboarding"
	// The protections' pauses (see docs/campaigns.md#protection).
	PauseSender           = "sender_paused"     // the sender guard holds the campaign's sender
	PauseTemplate         = "template_paused"   // Meta paused the campaign's template
	PauseTemplateDisabled = "template_disabled" // Meta disabled the campaign's template
	PauseFallback         = "fallback"          // a message was priced as a Cloud API marketing message (on_fallback: pause)
)

// PauseReasons lists them, for metric labels.
func PauseReasons() []string {
	return []string{PauseOperator, PauseCampaignFatal, PauseFailureRatio, PauseOnboarding,
		PauseSender, PauseTemplate, PauseTemplateDisabled, PauseFallback}
}

// Errors of campaign storage and control. The errors that carry them read
// as sentences a user can act on ("campaign spring not found", "campaign
// spring is cancelled: it cannot be paused"), without these words: tell
// them apart with errors.Is.
var (
	ErrNotFound = errors.New("campaign: not found")
	ErrConflict = errors.New("campaign: a different campaign with this id exists")
	// ErrState is a control that the campaign's state does not allow.
	ErrState = errors.New("campaign: not allowed in this state")
)

// Status is a campaign's state and counts, as the API and CLI show them.
type Status struct {
	ID           string      `json:"id"`
	State        State       `json:"state"`
	PausedReason string      `json:"paused_reason"`
	Counts       task.Counts `json:"counts"`
	Sender       string      `json:"sender,omitempty"`
	Template     string      `json:"template_name,omitempty"` // the template's name
	CreatedAt    *time.Time  `json:"created_at,omitempty"`
	FinishedAt   *time.Time  `json:"finished_at,omitempty"`
	PausedAt     *time.Time  `json:"paused_at,omitempty"`
	// DeliveryErrors counts failed-delivery webhooks by error code.
	DeliveryErrors map[string]int64 `json:"delivery_errors,omitempty"`
	Error          *task.Error      `json:"error,omitempty"` // the error behind an automatic pause
	// Sealed says the campaign takes no new recipients: it completes once
	// every recipient it has is final.
	Sealed   bool       `json:"sealed"`
	SealedAt *time.Time `json:"sealed_at,omitempty"`
	// Rate is the campaign's sends per second (outcomes of API calls:
	// sent, failed, unknown) over the last minute.
	Rate float64 `json:"rate"`
	// NextSendAt is when the campaign's next send is due, as far as mmlite
	// can tell (see docs/campaigns.md#campaign-status); nil when nothing is
	// left to send or it cannot tell (paused).
	NextSendAt *time.Time `json:"next_send_at,omitempty"`
	// ETA is when the last recipient is expected to be final: an estimate,
	// nil without a basis for one.
	ETA *time.Time `json:"eta,omitempty"`
	// Waiting says why nothing of the campaign can be sent now; nil while
	// it sends, and once it is over.
	Waiting *Waiting `json:"waiting,omitempty"`
}

// Waiting is why a campaign sends nothing now, and until when.
type Waiting struct {
	Reason string     `json:"reason"`          // one of the Wait* values
	Until  *time.Time `json:"until,omitempty"` // when it ends, when known
	Detail string     `json:"detail,omitempty"`
}

// Reasons of Waiting.
const (
	WaitSendAt        = "send_at"        // its send_at has not come yet
	WaitSenderBacklog = "sender_backlog" // its first slot lies behind other campaigns' slots of the same sender
	WaitThrottled     = "throttled"      // the provider throttled the sender (Retry-After): no send before Until
	WaitPaused        = "paused"         // paused by the operator, or automatically (Detail)
	WaitOnboarding    = "onboarding"     // paused until its WABA signs the MM Lite terms
	WaitRetryBackoff  = "retry_backoff"  // what is left waits to be retried (a backoff, or a per-recipient delay)
	WaitNoWorkers     = "no_workers"     // jobs are due, but no worker serves the send queue
	WaitOpen          = "open"           // every recipient is final, but the campaign is not sealed: it waits for more
	// WaitMessagingLimit: the sender's (or its portfolio's) messaging limit
	// is reached; new recipients wait until a place frees (Until).
	WaitMessagingLimit = "messaging_limit"
)
