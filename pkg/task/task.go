package task

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mmlite/mmlite/pkg/mmapi"
)

// Task types.
const (
	// TypeSend is one recipient of one campaign, consumed by workers.
	TypeSend = "mmlite:send"
	// TypeResult is one recipient's final outcome, for upstream consumers.
	TypeResult = "mmlite:result"
	// TypeStatus is one delivery event from a webhook, for upstream consumers.
	TypeStatus = "mmlite:status"
	// TypeCampaign says a campaign reached a final state (completed or cancelled).
	TypeCampaign = "mmlite:campaign"
	// TypeTest is one test message of a campaign's template, sent by a
	// worker outside the campaign's ledger and counts; its answer is the
	// task's result (TestResult).
	TypeTest = "mmlite:test"
)

// Queues.
const (
	// SendQueue holds the send jobs. Its name is also the Redis hash tag of
	// every mmlite key, so campaign state lives in the same cluster slot as
	// the jobs and Lua scripts can touch both.
	SendQueue = "mmlite"
	// DefaultResultsQueue receives results, statuses and campaign events.
	DefaultResultsQueue = "mmlite-results"
)

// Send is the payload of TypeSend. Its keys are short because a million of
// them wait in Redis at once; the campaign definition is stored once, not here.
type Send struct {
	Campaign   string            `json:"c"`
	Sender     string            `json:"s,omitempty"` // "" means "default"
	To         string            `json:"to"`
	Components []mmapi.Component `json:"p,omitempty"` // the recipient's own template parameters
	Metadata   map[string]string `json:"m,omitempty"` // echoed in the result
	ExpiresAt  int64             `json:"e,omitempty"` // unix seconds; 0 = no expiry
}

// SenderID returns the sender, "default" when the payload names none.
func (s *Send) SenderID() string {
	if s.Sender == "" {
		return "default"
	}
	return s.Sender
}

// Expired reports whether the job may no longer be sent at now.
func (s *Send) Expired(now time.Time) bool {
	return s.ExpiresAt != 0 && now.Unix() >= s.ExpiresAt
}

// SendID is the asynq task id of a send job: at most one job per recipient.
func SendID(campaign, to string) string { return campaign + ":" + to }

// IsSendOf says whether the asynq task id is a send job of the campaign (see
// SendID): a campaign id has no ':', a recipient neither, so that the test
// send of another campaign (test:<campaign>:<to>:<nonce>) is none of a
// campaign named "test".
func IsSendOf(id, campaign string) bool {
	to, ok := strings.CutPrefix(id, campaign+":")
	return ok && to != "" && !strings.Contains(to, ":")
}

// DecodeSend parses a TypeSend payload and checks the fields a job cannot do without.
func DecodeSend(b []byte) (*Send, error) {
	var s Send
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("task: decode %s payload: %w", TypeSend, err)
	}
	if s.Campaign == "" || s.To == "" {
		return nil, fmt.Errorf("task: %s payload without campaign or recipient", TypeSend)
	}
	return &s, nil
}

// Final outcomes of a recipient, the Result.Status values.
const (
	StatusSent      = "sent"
	StatusFailed    = "failed"
	StatusExpired   = "expired"
	StatusCancelled = "cancelled"
	StatusUnknown   = "unknown"
	// StatusSuppressed: the recipient is on its sender's suppression list
	// (see docs/campaigns.md#protection); no message was sent.
	StatusSuppressed = "suppressed"
)

// FinalStatuses lists the Result.Status values, for metrics and counts.
var FinalStatuses = []string{StatusSent, StatusFailed, StatusExpired, StatusCancelled, StatusUnknown, StatusSuppressed}

// Result is the payload of TypeResult: one per recipient, once it has a final outcome.
type Result struct {
	CampaignID    string            `json:"campaign_id"`
	To            string            `json:"to"`
	Sender        string            `json:"sender"`
	Status        string            `json:"status"`
	WAMID         string            `json:"wamid"`
	MessageStatus string            `json:"message_status"`
	Error         *Error            `json:"error"`
	Attempts      int               `json:"attempts"`
	FinishedAt    time.Time         `json:"finished_at"`
	Metadata      map[string]string `json:"metadata"`
}

// Error explains a failure. Class is mmlite's reading of it (see docs/errors.md,
// the classification table); Code is Meta's error code, 0 when there was none.
type Error struct {
	Code       int    `json:"code"`
	Title      string `json:"title"`
	Details    string `json:"details"`
	HTTPStatus int    `json:"http_status"`
	Class      string `json:"class,omitempty"`
}

// ClassBadJob is the class of a job that could not be sent at all
// (undecodable payload, unknown sender or campaign).
const ClassBadJob = "bad_job"

// ErrorFrom converts a client error; nil stays nil. The title is the
// client's own words, never Go's error text with URLs and addresses.
func ErrorFrom(e *mmapi.Error) *Error {
	if e == nil {
		return nil
	}
	return &Error{Code: e.Code, Title: e.Title, Details: e.Details, HTTPStatus: e.HTTPStatus, Class: e.Class.String()}
}

// ResultID is the asynq task id of a result, so a result is enqueued once.
func ResultID(campaign, to string) string { return campaign + ":" + to }

// StatusEvent is the payload of TypeStatus: one delivery event from a webhook.
type StatusEvent struct {
	CampaignID      string    `json:"campaign_id"`
	To              string    `json:"to"`
	WAMID           string    `json:"wamid"`
	Status          string    `json:"status"`
	PricingCategory string    `json:"pricing_category"`
	Timestamp       time.Time `json:"timestamp"`
	Error           *Error    `json:"error"`
	// Resolved marks the "sent" status that resolved the recipient's
	// unknown outcome: a status webhook showed its message sent (its
	// result said unknown).
	Resolved bool `json:"resolved,omitempty"`
}

// CampaignEvent is the payload of TypeCampaign: emitted once when a campaign
// reaches a final state, completed (every recipient has a final outcome) or
// cancelled (every remaining recipient got a cancelled result), and when it
// is paused automatically (with the reason, and the error behind the pause
// as the campaign's status shows it).
type CampaignEvent struct {
	CampaignID string `json:"campaign_id"`
	State      string `json:"state"`
	Reason     string `json:"reason,omitempty"` // why it was paused
	// Error is the error behind an automatic pause, Meta's code in Code (0
	// for none): the campaign status's error. Nil otherwise, and for a
	// pause without one (onboarding).
	Error      *Error    `json:"error,omitempty"`
	Counts     Counts    `json:"counts"`
	FinishedAt time.Time `json:"finished_at"`
}

// Counts are a campaign's per-recipient tallies, exact under concurrency.
type Counts struct {
	Enqueued  int64 `json:"enqueued"`
	Sent      int64 `json:"sent"`
	Failed    int64 `json:"failed"`
	Expired   int64 `json:"expired"`
	Cancelled int64 `json:"cancelled"`
	Unknown   int64 `json:"unknown"`
	// Suppressed counts recipients on the sender's suppression list.
	Suppressed int64 `json:"suppressed"`
	Delivered  int64 `json:"delivered"`
	Read       int64 `json:"read"`
	Fallback   int64 `json:"fallback"`
	// Undelivered counts sent messages that a webhook later reported
	// failed, and that no webhook reported delivered or read.
	Undelivered int64 `json:"undelivered"`
}

// Final is the number of recipients with a final outcome.
func (c Counts) Final() int64 {
	return c.Sent + c.Failed + c.Expired + c.Cancelled + c.Unknown + c.Suppressed
}

// TestSend is the payload of TypeTest: the campaign whose template to send,
// its sender, the number, and the recipient's own components.
type TestSend struct {
	Campaign   string            `json:"c"`
	Sender     string            `json:"s"`
	To         string            `json:"to"`
	Components []mmapi.Component `json:"p,omitempty"`
}

// TestResult is the answer of a test send: the API's, as the worker read
// it. Status is sent, failed (the API refused it: Error) or unknown (no
// answer after the request was written).
type TestResult struct {
	CampaignID    string `json:"campaign_id"`
	To            string `json:"to"`
	Sender        string `json:"sender"`
	Status        string `json:"status"`
	WAMID         string `json:"wamid,omitempty"`
	MessageStatus string `json:"message_status,omitempty"`
	Error         *Error `json:"error,omitempty"`
}
