package guard

import (
	"context"
	"time"

	"github.com/mmlite/mmlite/internal/ratelimit"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/pkg/sender"
)

// ReasonOperator is the reason of an operator's sender pause (the API's
// POST /v1/senders/{id}/pause, the console's Pause).
const ReasonOperator = "paused by the operator"

// SenderView is a sender as GET /v1/senders and the console show it: what
// workers published, its guard state, onboarding, throttle and messaging
// limit.
type SenderView struct {
	sender.Published
	State string `json:"state"` // sending or paused
	SenderState
	Onboarded      *bool      `json:"onboarded,omitempty"` // when it requires onboarding
	ThrottledUntil *time.Time `json:"throttled_until,omitempty"`
	EffectiveRate  float64    `json:"effective_rate"` // the rate after the provider's throttling
	Limit          Use        `json:"messaging_limit_use"`
	LimitScope     string     `json:"limit_scope"`
	Scope          string     `json:"scope"`
}

// SenderView reads a published sender's view; reg is the registry that
// knows its onboarding.
func (g *Guard) SenderView(ctx context.Context, reg *registry.Registry, p sender.Published) (*SenderView, error) {
	v := &SenderView{Published: p, State: "sending", Scope: p.Scope(), LimitScope: p.LimitScope()}
	var err error
	if v.SenderState, err = g.Sender(ctx, p.ID); err != nil {
		return nil, err
	}
	if v.Paused {
		v.State = "paused"
	}
	if p.RequireOnboarding {
		at, err := reg.Onboarded(ctx, p.WABAID)
		if err != nil {
			return nil, err
		}
		ok := !at.IsZero()
		v.Onboarded = &ok
	}
	now := g.now()
	if hold, err := g.store.Campaigns.NewProbe().Hold(ctx, p.ID); err != nil {
		return nil, err
	} else if hold.After(now) {
		t := hold.UTC()
		v.ThrottledUntil = &t
	}
	bo, err := ratelimit.ReadBackoff(ctx, g.rdb, g.keys, p.ID, p.Rate)
	if err != nil {
		return nil, err
	}
	v.EffectiveRate = bo.Rate(now)
	if v.Limit, err = g.Use(ctx, p.LimitScope(), int(p.MessagingLimit)); err != nil {
		return nil, err
	}
	return v, nil
}

// SenderViews reads the views of every sender reg knows, in id order.
func (g *Guard) SenderViews(ctx context.Context, reg *registry.Registry) ([]*SenderView, error) {
	all, err := reg.All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*SenderView, 0, len(all))
	for _, id := range sender.IDs(all) {
		v, err := g.SenderView(ctx, reg, all[id])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
