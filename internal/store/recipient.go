package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mmlite/mmlite/internal/ident"
	"github.com/mmlite/mmlite/internal/sentence"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// Where a recipient of a campaign is (Whereabouts.State).
const (
	AtQueued    = "queued"    // due: waiting for a worker
	AtScheduled = "scheduled" // waiting for its send slot (DueAt)
	AtRetrying  = "retrying"  // an attempt failed without sending; tried again at DueAt
	AtParked    = "parked"    // put aside while its campaign is paused
	AtInFlight  = "in_flight" // a worker is sending it (since ClaimedAt)
	AtFinal     = "final"     // it has its outcome (Result)
)

// Whereabouts is where one recipient of a campaign is, and its result.
type Whereabouts struct {
	CampaignID string      `json:"campaign_id"`
	To         string      `json:"to"`
	State      string      `json:"state"`
	DueAt      *time.Time  `json:"due_at,omitempty"`
	Attempts   int         `json:"attempts"`
	ClaimedAt  *time.Time  `json:"claimed_at,omitempty"`
	LastError  *task.Error `json:"last_error,omitempty"`
	// Result is the recipient's mmlite:result payload, once final.
	Result *task.Result `json:"result,omitempty"`
	// ResolvedAt: the outcome was unknown until a status webhook showed
	// the message sent.
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	// Delivery is what the provider's webhooks said of the sent message.
	Delivery *DeliveryState `json:"delivery,omitempty"`
}

// Recipient says where one recipient of a campaign is. It is
// campaign.ErrNotFound for an unknown campaign, and ErrNoRecipient for a
// recipient the campaign does not have.
func (s *Store) Recipient(ctx context.Context, id, to string) (*Whereabouts, error) {
	c, err := s.Campaigns.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	k := s.b.keys
	tid := task.SendID(id, to)
	pipe := s.b.rdb.Pipeline()
	marker := pipe.HGet(ctx, k.Ledger(id), to)
	state := pipe.HGet(ctx, k.AsynqTask(tid), "state")
	sched := pipe.ZScore(ctx, k.AsynqScheduled(), tid)
	retry := pipe.ZScore(ctx, k.AsynqRetry(), tid)
	parked := pipe.ZScore(ctx, k.Parked(id), to)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("campaign: look up a recipient of %s: %w", id, err)
	}
	w := &Whereabouts{CampaignID: id, To: to}
	mk, err := parseMarker(marker.Val())
	if err != nil {
		return nil, err
	}
	w.Attempts, w.LastError = mk.Attempts, mk.LastError
	due := func(z *redis.FloatCmd) {
		if z.Err() == nil {
			w.DueAt = utc(time.Unix(int64(z.Val()), 0))
		}
	}
	switch {
	case mk.Kind == 'F':
		return w, s.final(ctx, w, c.Sender, mk.Outcome)
	case mk.Kind == 'C' || state.Val() == "active":
		w.State = AtInFlight
		if mk.Kind == 'C' {
			w.ClaimedAt = utc(mk.At)
		}
	case state.Val() == "pending":
		w.State = AtQueued
	case state.Val() == "scheduled":
		w.State = AtScheduled
		due(sched)
	case state.Val() == "retry":
		w.State = AtRetrying
		if parked.Err() == nil {
			// Its job sleeps until the campaign's expiry: it is sent
			// once the campaign resumes, at no time known now.
			w.State = AtParked
			break
		}
		due(retry)
	case state.Val() == "" && mk.Kind == 0:
		return nil, sentence.Of(ErrNoRecipient, "campaign %s has no recipient %s", ident.Name(id), to)
	default: // archived, or a marker without its job
		w.State = state.Val()
	}
	return w, nil
}

// final fills in a final recipient's result and its message's delivery.
func (s *Store) final(ctx context.Context, w *Whereabouts, sender string, o *Outcome) error {
	w.State = AtFinal
	w.Result = ResultOf(w.CampaignID, w.To, sender, o)
	w.ResolvedAt = msTime(o.Resolved)
	if o.WAMID == "" {
		return nil
	}
	ds, err := s.Deliveries.States(ctx, []string{o.WAMID})
	if err != nil {
		return err
	}
	w.Delivery = &ds[0]
	return nil
}

// ErrNoRecipient is a recipient a campaign does not have.
var ErrNoRecipient = errors.New("campaign: no such recipient")

// ResultOf is the mmlite:result payload of a recipient's outcome.
func ResultOf(id, to, sender string, o *Outcome) *task.Result {
	return &task.Result{CampaignID: id, To: to, Sender: sender, Status: o.Status, WAMID: o.WAMID,
		MessageStatus: o.MessageStatus, Error: o.Error, Attempts: o.Attempts,
		FinishedAt: time.UnixMilli(o.FinishedAt).UTC(), Metadata: o.Metadata}
}

// DeliveryState is what status webhooks said of a sent message.
type DeliveryState struct {
	Sent      *time.Time `json:"sent,omitempty"`
	Delivered *time.Time `json:"delivered,omitempty"`
	Read      *time.Time `json:"read,omitempty"`
	Failed    *time.Time `json:"failed,omitempty"`
	ErrorCode int        `json:"error_code,omitempty"` // of a failed delivery
}

// Undelivered says the message was accepted, then reported failed, and
// never delivered.
func (d DeliveryState) Undelivered() bool {
	return d.Failed != nil && d.Delivered == nil && d.Read == nil
}

// States reads what webhooks said of messages, in one round trip.
func (s Deliveries) States(ctx context.Context, wamids []string) ([]DeliveryState, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(wamids))
	for i, w := range wamids {
		cmds[i] = pipe.HMGet(ctx, s.keys.WAMID(w), "sent", "delivered", "read", "failed", "code")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("campaign: read delivery states: %w", err)
	}
	out := make([]DeliveryState, len(wamids))
	for i, cmd := range cmds {
		v := cmd.Val()
		at := func(j int) *time.Time {
			str, _ := v[j].(string)
			if sec, _ := strconv.ParseInt(str, 10, 64); sec > 0 {
				t := time.Unix(sec, 0).UTC()
				return &t
			}
			if str != "" { // recorded without a time by an mmlite before 2026-12-07 (since, one has the time it was received)
				t := time.Unix(0, 0).UTC()
				return &t
			}
			return nil
		}
		out[i] = DeliveryState{Sent: at(0), Delivered: at(1), Read: at(2), Failed: at(3)}
		code, _ := v[4].(string)
		out[i].ErrorCode, _ = strconv.Atoi(code)
	}
	return out, nil
}
