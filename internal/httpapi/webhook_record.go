package httpapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
)

// record records the webhook's events; always are tasks written with its
// first status (see storeRelay), and wrote says they were, even when a
// later step failed.
func (s *Server) record(ctx context.Context, ev *webhook.Events, always *store.ResultTask) (wrote bool, err error) {
	senders := s.guard.Senders()
	if wrote, err = s.recordStatuses(ctx, senders, ev.Statuses, always); err != nil {
		return wrote, err
	}
	if err := s.guardEvents(ctx, senders, ev); err != nil {
		return wrote, err
	}
	if len(ev.Clicks) > 0 || len(ev.Accounts) > 0 {
		if err := s.recordSenderEvents(ctx, senders, ev); err != nil {
			return wrote, err
		}
	}
	s.wm.events.WithLabelValues("other", "").Add(float64(ev.Other))
	return wrote, nil
}

// recordStatuses maps statuses back to their recipients, emits one
// mmlite:status task per (wamid, status) and counts each once. On a
// single Redis node, statuses that call for no protection are recorded in
// one step, which looks their messages up itself (see recordQuick); the
// others, and those of messages that step did not know, are looked up
// first (see recordTracked).
func (s *Server) recordStatuses(ctx context.Context, senders *guard.Senders, sts []webhook.Status, always *store.ResultTask) (wrote bool, err error) {
	if len(sts) == 0 {
		return false, nil
	}
	reserved := 0
	for _, st := range sts {
		s.wm.events.WithLabelValues("status", statusLabel(st.Status)).Inc()
		if store.RecordField(st.Status) {
			reserved++
		}
	}
	if reserved > 0 {
		// Named like a field of the message's record: recorded nowhere
		// (the webhook is relayed all the same).
		sts = slices.DeleteFunc(slices.Clone(sts), func(st webhook.Status) bool { return store.RecordField(st.Status) })
		if len(sts) == 0 {
			if always != nil { // the relay tasks were to be written with the first status
				return true, s.relay.Write(ctx, always)
			}
			return false, nil
		}
	}
	// A chunk at a time: what recording a status holds (its task, its
	// commands and their replies) is then held for one chunk, however many
	// statuses the webhook carries.
	for len(sts) > 0 {
		n := min(len(sts), statusChunk)
		w, err := s.recordChunk(ctx, senders, sts[:n:n], always)
		if w {
			always, wrote = nil, true // written with the first chunk
		}
		if err != nil {
			return wrote, err
		}
		sts = sts[n:]
	}
	return wrote, nil
}

// statusChunk is how many statuses of a webhook are recorded in one step:
// a provider's whole batch (Meta sends up to 1,000 updates a webhook).
const statusChunk = 1000

// recordChunk records statuses: in one step each, when none calls for a
// protection (see recordQuick), the others after a lookup.
func (s *Server) recordChunk(ctx context.Context, senders *guard.Senders, sts []webhook.Status, always *store.ResultTask) (wrote bool, err error) {
	if s.fuse && quick(sts) {
		if sts, err = s.recordQuick(ctx, sts, always); err != nil || len(sts) == 0 {
			return err == nil, err
		}
		always, wrote = nil, true // written
	}
	tracked, err := s.recordTracked(ctx, senders, sts, always)
	return wrote || tracked, err
}

// quick says whether no status calls for a protection: none failed, none
// was charged as a fallback (see guard.OnStatuses).
func quick(sts []webhook.Status) bool {
	for _, st := range sts {
		switch {
		case st.Status != "sent" && st.Status != "delivered" && st.Status != "read",
			st.Error != nil, st.PricingCategory == guard.FallbackCategory:
			return false
		}
	}
	return true
}

// statusAt is when a status happened (unix seconds): its timestamp, or,
// for one without (missing or unreadable), when mmlite received it. A
// status without a time still happened, no later than that: its record
// (the recipient lookup's delivery), its mmlite:status task and the
// matching of unknown outcomes (on mmlite's clock) say so alike. The
// guards read the status's own time only (see guardStatuses): receipt
// time, later than the event, would order Meta's template events wrong.
func statusAt(st webhook.Status, received time.Time) int64 {
	if st.Timestamp.IsZero() {
		return received.Unix()
	}
	return st.Timestamp.Unix()
}

// recordQuick records statuses in one step each, which looks their
// message up, counts the status once and writes its status task (see
// store.StatusShape); always are written with the first. It returns the
// statuses it could not record so (of a message it did not know, say),
// for recordTracked.
func (s *Server) recordQuick(ctx context.Context, sts []webhook.Status, always *store.ResultTask) (rest []webhook.Status, err error) {
	ds := make([]store.Delivery, len(sts))
	received := time.Now()
	for i, st := range sts {
		at := statusAt(st, received)
		ds[i] = store.Delivery{WAMID: st.WAMID, Status: st.Status, Category: st.PricingCategory, At: at}
		ev := task.StatusEvent{WAMID: st.WAMID, Status: st.Status, PricingCategory: st.PricingCategory, Timestamp: time.Unix(at, 0).UTC()}
		if ds[i].Task, ds[i].Shape, err = s.emit.StatusShape(ctx, ev); err != nil {
			return nil, fmt.Errorf("httpapi: status tasks: %w", err)
		}
	}
	ds[0].Always = always
	done, err := s.deliveries.Record(ctx, ds)
	if err != nil {
		return nil, err
	}
	for i, d := range done {
		switch {
		case d.Unknown, d.Unshaped:
			rest = append(rest, sts[i])
		case d.Counted:
			s.wm.deliveries.WithLabelValues("counted").Inc()
		default:
			s.wm.deliveries.WithLabelValues("duplicate").Inc()
		}
	}
	return rest, nil
}

// recordTracked looks statuses up, acts on them (see guard.OnStatuses),
// then records them.
func (s *Server) recordTracked(ctx context.Context, senders *guard.Senders, sts []webhook.Status, always *store.ResultTask) (wrote bool, err error) {
	ds := make([]store.Delivery, len(sts))
	received := time.Now()
	for i, st := range sts {
		ds[i] = store.Delivery{WAMID: st.WAMID, Status: st.Status, Category: st.PricingCategory, At: statusAt(st, received)}
		if st.Error != nil {
			ds[i].ErrorCode = st.Error.Code
		}
	}
	ds[0].Always = always
	tracked, err := s.deliveries.Track(ctx, ds)
	if err != nil {
		return false, err
	}
	if err := s.keepUnmatched(ctx, sts, ds, tracked); err != nil {
		return false, err
	}
	// Before Record, which marks the statuses and the pricing seen: a
	// protection that failed is tried again when the provider delivers the
	// webhook again.
	if err := s.guardStatuses(ctx, senders, sts, tracked); err != nil {
		return false, err
	}
	if err := s.emitStatuses(ctx, sts, ds, tracked); err != nil {
		return false, err
	}
	counted, err := s.deliveries.Record(ctx, ds)
	if err != nil {
		return false, err
	}
	// After Record, so that a delivered or read in the same webhook counts
	// as come first; when it fails, the provider's next delivery of the
	// webhook tries again (it is idempotent).
	if err := s.deliveries.FreeFailed(ctx, ds, tracked); err != nil {
		return true, err
	}
	for i, t := range tracked {
		switch {
		case counted[i].Counted: // known now, perhaps: its send was recorded since the lookup
			s.wm.deliveries.WithLabelValues("counted").Inc()
		case !t.Known:
			s.wm.deliveries.WithLabelValues("unknown_wamid").Inc()
		default:
			s.wm.deliveries.WithLabelValues("duplicate").Inc()
		}
		if counted[i].Fallback {
			s.wm.fallback.WithLabelValues(senders.SenderOf(ctx, t.Campaign)).Inc()
		}
	}
	return true, nil
}

// keepUnmatched keeps the statuses of messages mmlite does not know, from
// a number to a recipient: one may be the message of an attempt whose
// outcome is unknown, or of a send not recorded yet (see
// store.Deliveries.KeepUnmatched). A status whose send was recorded since
// it was looked up is looked up again, and recorded as any other.
func (s *Server) keepUnmatched(ctx context.Context, sts []webhook.Status, ds []store.Delivery, tracked []store.Tracked) error {
	var us []store.Unmatched
	var at []int
	for i, t := range tracked {
		if !t.Known {
			us = append(us, store.Unmatched{PhoneNumberID: sts[i].PhoneNumberID, To: sts[i].RecipientID, Delivery: ds[i]})
			at = append(at, i)
		}
	}
	if len(us) == 0 {
		return nil
	}
	kept, err := s.store().Deliveries.KeepUnmatched(ctx, us)
	if err != nil {
		return err
	}
	var known []int // recorded since the lookup: looked up again, together
	var again []store.Delivery
	for j, k := range kept {
		// Kept for its send's settle, which hands it on: counted now, a
		// send recorded in between would leave its event to no one.
		ds[at[j]].AlwaysOnly = k == store.Kept
		if k == store.KnownNow {
			known, again = append(known, at[j]), append(again, ds[at[j]])
		}
	}
	if len(known) == 0 {
		return nil
	}
	ts, err := s.deliveries.Track(ctx, again)
	if err != nil {
		return err
	}
	for j, i := range known {
		tracked[i] = ts[j]
	}
	return nil
}

// emitStatuses has the status tasks of events not seen before enqueued: on
// a single Redis node, by Record, in the step that records each event
// once (it sets ds[i].Task); in Cluster, now, before Record (the task id
// keeps a repeated delivery from doubling one still in the queue).
func (s *Server) emitStatuses(ctx context.Context, sts []webhook.Status, ds []store.Delivery, tracked []store.Tracked) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 16)
	for i, t := range tracked {
		if !t.Known || t.Seen {
			continue
		}
		st := sts[i]
		ev := task.StatusEvent{CampaignID: t.Campaign, To: t.To, WAMID: st.WAMID, Status: st.Status,
			PricingCategory: st.PricingCategory, Timestamp: time.Unix(ds[i].At, 0).UTC()} // as recorded
		if st.Error != nil {
			ev.Error = &task.Error{Code: st.Error.Code, Title: st.Error.Title, Details: st.Error.Details}
		}
		if s.fuse {
			var err error
			if ds[i].Task, err = s.emit.StatusTask(ctx, &ev); err != nil {
				return fmt.Errorf("httpapi: status tasks: %w", err)
			}
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := s.emit.Status(ctx, &ev); err != nil {
				mu.Lock()
				firstErr = errors.Join(firstErr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("httpapi: enqueue status tasks: %w", firstErr)
	}
	return nil
}

// recordSenderEvents counts clicks and records onboarding.
func (s *Server) recordSenderEvents(ctx context.Context, senders *guard.Senders, ev *webhook.Events) error {
	all, err := senders.Published(ctx)
	if err != nil {
		return err
	}
	for _, c := range ev.Clicks {
		s.wm.events.WithLabelValues("click", "click").Inc()
		id := "unknown"
		if p, ok := sender.ByPhoneNumberID(all, c.PhoneNumberID); ok {
			id = p.ID
		}
		fresh, err := s.senders.CountClick(ctx, id, c.TrackingToken, c.ClickID)
		if err != nil {
			return err
		}
		if fresh {
			s.wm.clicks.WithLabelValues(id).Inc()
		}
	}
	for _, a := range ev.Accounts {
		s.wm.events.WithLabelValues("account_update", accountLabel(a.Event)).Inc()
		if a.Event != webhook.OnboardedEvent || a.WABAID == "" {
			continue
		}
		at := a.Timestamp
		if at.IsZero() {
			at = time.Now()
		}
		resumed, err := s.cfg.Producer.Onboarded(ctx, a.WABAID, at)
		if err != nil {
			return err
		}
		s.log.Info("WABA onboarded to MM Lite", "waba_id", a.WABAID, "campaigns_resumed", len(resumed))
	}
	return nil
}
