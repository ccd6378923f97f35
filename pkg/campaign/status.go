package campaign

import (
	"errors"
	"time"

	"github.com/mmlite/mmlite/pkg/task"
)

// DefaultRetention is how long a campaign's keys outlive its final state
// (completed, or finished after a cancel) before Redis drops them and it
// leaves the index. A campaign that never reaches one is dropped that long
// after its expires_at or, without one, DefaultLifetime after its creation.
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
)

// PauseReasons lists them, for metric labels.
func PauseReasons() []string {
	return []string{PauseOperator, PauseCampaignFatal, PauseFailureRatio, PauseOnboarding}
}

// Errors of campaign storage and control.
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
}
