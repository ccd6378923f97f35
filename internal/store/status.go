package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/ident"
	"github.com/mmlite/mmlite/internal/sentence"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
)

// Status returns a campaign's state and counts, its send rate, and what
// its own hash tells of when it sends next and why it may wait (see
// Campaigns.Live for the rest).
func (s Campaigns) Status(ctx context.Context, id string) (*campaign.Status, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.Campaign(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("campaign: status %s: %w", id, err)
	}
	st, _, err := statusOf(id, h, s.now())
	if err != nil {
		return nil, err
	}
	return st, limitWait(ctx, st, s.publishedSenders)
}

// slots are the times of a campaign's first and last send slots (see the
// producer's enqueue script); zero when it has none (enqueued by an mmlite
// before they were kept).
type slots struct {
	first, last time.Time
	limitUntil  time.Time // when the messaging limit last held a recipient back, until
	expires     time.Time // the campaign's expires_at; zero for none
}

// statusOf reads a campaign's hash.
func statusOf(id string, h map[string]string, now time.Time) (*campaign.Status, slots, error) {
	if h["def"] == "" {
		return nil, slots{}, sentence.Of(campaign.ErrNotFound, "campaign %s not found", ident.Name(id))
	}
	num := func(k string) int64 { n, _ := strconv.ParseInt(h[k], 10, 64); return n }
	var def campaign.Campaign
	if err := json.Unmarshal([]byte(h["def"]), &def); err != nil {
		return nil, slots{}, fmt.Errorf("campaign: decode %s: %w", id, err)
	}
	st := &campaign.Status{ID: id, State: campaign.State(h["state"]), PausedReason: h["paused_reason"], Sender: def.Sender,
		Template:  def.Template.Name,
		CreatedAt: msTime(num("created_at")), FinishedAt: msTime(num("finished_at")), PausedAt: msTime(num("paused_at")),
		Counts: task.Counts{Enqueued: num("enqueued"), Sent: num("sent"), Failed: num("failed"), Expired: num("expired"),
			Cancelled: num("cancelled"), Unknown: num("unknown"), Suppressed: num("suppressed"), Delivered: num("delivered"), Read: num("read"),
			Fallback: num("fallback"), Undelivered: num("undelivered")}}
	for k := range h {
		if code, ok := strings.CutPrefix(k, "err:"); ok {
			if st.DeliveryErrors == nil {
				st.DeliveryErrors = map[string]int64{}
			}
			st.DeliveryErrors[code] = num(k)
		}
	}
	if at := num("sealed"); at != 0 {
		st.Sealed, st.SealedAt = true, msTime(at)
	}
	if f := h["fatal"]; f != "" {
		st.Error = new(task.Error)
		_ = json.Unmarshal([]byte(f), st.Error)
	}
	if st.State == campaign.StateRunning && def.SendAt != nil && def.SendAt.After(now) {
		st.State = campaign.StateScheduled
	}
	st.Rate = rateOf(h, now, st.CreatedAt)
	var sl slots
	if def.ExpiresAt != nil {
		sl.expires = *def.ExpiresAt
	}
	if ms := num("limit_until"); ms > 0 {
		sl.limitUntil = time.UnixMilli(ms)
	}
	if ms := num("slot_first"); ms > 0 {
		sl.first = time.UnixMilli(ms)
	}
	if ms := num("slot_last"); ms > 0 {
		sl.last = time.UnixMilli(ms)
	}
	estimate(st, def.SendAt, sl, now)
	return st, sl, nil
}

// Rate buckets: the settle script counts a campaign's sends in 10 s
// buckets, fields "r:<bucket>" of its hash (bucket = unix ms / 10,000),
// one HINCRBY per send; the first send of a bucket deletes the buckets of
// the ten minutes before the last minute (older ones, after a longer
// pause, stay until the campaign's keys expire, and are not read).
const (
	rateBucket = 10 * time.Second
	rateRing   = 6
)

// rateOf is the sends per second over the last minute: the last six
// buckets, over the time they span (less for a campaign younger than
// that).
func rateOf(h map[string]string, now time.Time, created *time.Time) float64 {
	cur := now.UnixMilli() / rateBucket.Milliseconds()
	var n int64
	for b := cur - rateRing + 1; b <= cur; b++ {
		count, _ := strconv.ParseInt(h["r:"+strconv.FormatInt(b, 10)], 10, 64)
		n += count
	}
	if n == 0 {
		return 0
	}
	span := now.Sub(time.UnixMilli((cur - rateRing + 1) * rateBucket.Milliseconds()))
	if created != nil && now.Sub(*created) < span {
		span = now.Sub(*created)
	}
	span = max(span, time.Second)
	return math.Round(float64(n)/span.Seconds()*100) / 100
}

// estimate fills what the campaign's own hash tells of its next send, its
// end and why it waits: its state, send_at and its slots.
func estimate(st *campaign.Status, sendAt *time.Time, sl slots, now time.Time) {
	left := st.Counts.Enqueued - st.Counts.Final()
	switch {
	case st.State.Final():
		return
	case st.State == campaign.StatePaused:
		reason := campaign.WaitPaused
		if strings.HasPrefix(st.PausedReason, campaign.PauseOnboarding+":") {
			reason = campaign.WaitOnboarding
		}
		st.Waiting = &campaign.Waiting{Reason: reason, Detail: st.PausedReason}
		return
	case left <= 0 && !st.Sealed && st.State != campaign.StateScheduled:
		st.Waiting = &campaign.Waiting{Reason: campaign.WaitOpen,
			Detail: "no recipient is left to send; the campaign is open: it takes more recipients, and completes once sealed"}
		return
	case left <= 0:
		return
	case st.State == campaign.StateScheduled:
		next := *sendAt
		if sl.first.After(next) {
			next = sl.first
		}
		st.NextSendAt = utc(next)
		st.Waiting = &campaign.Waiting{Reason: campaign.WaitSendAt, Until: utc(*sendAt),
			Detail: "the campaign starts at its send_at"}
	case sl.first.After(now.Add(time.Second)):
		st.NextSendAt = utc(sl.first)
		st.Waiting = &campaign.Waiting{Reason: campaign.WaitSenderBacklog, Until: utc(sl.first),
			Detail: fmt.Sprintf("the sender %s has other campaigns' slots before this one's first", st.Sender)}
	case sl.limitUntil.After(now):
		st.NextSendAt = utc(sl.limitUntil)
		// Its detail names whose limit it is: see limitWait.
		st.Waiting = &campaign.Waiting{Reason: campaign.WaitMessagingLimit, Until: utc(sl.limitUntil)}
	case !sl.last.Before(now):
		st.NextSendAt = utc(now)
	}
	st.ETA = eta(st, sl, now)
}

// eta is the latest of what bounds the campaign's end: its last slot, its
// rate, the end of its wait; nil when none is known. It is never past the
// campaign's expiry (or now, once that has passed), when every recipient
// left is reported expired.
func eta(st *campaign.Status, sl slots, now time.Time) *time.Time {
	left := st.Counts.Enqueued - st.Counts.Final()
	var end time.Time
	if sl.last.After(now) {
		end = sl.last
	}
	if st.Rate > 0 {
		if t := now.Add(time.Duration(float64(left) / st.Rate * float64(time.Second))); t.After(end) {
			end = t
		}
	}
	if w := st.Waiting; w != nil && w.Until != nil && w.Until.After(end) {
		end = *w.Until
	}
	if end.IsZero() {
		return nil
	}
	if !sl.expires.IsZero() && end.After(sl.expires) {
		end = sl.expires
		if now.After(end) {
			end = now
		}
	}
	return utc(end)
}

func utc(t time.Time) *time.Time {
	u := t.UTC().Truncate(time.Millisecond)
	return &u
}

func msTime(ms int64) *time.Time {
	if ms == 0 {
		return nil
	}
	t := time.UnixMilli(ms).UTC()
	return &t
}
