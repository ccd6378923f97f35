package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// verify answers Meta's subscription handshake:
// GET /webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...
func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("hub.mode") != "subscribe" || !webhook.SecretOK(s.cfg.VerifyToken, q.Get("hub.verify_token")) {
		s.wm.auth.WithLabelValues("verify_token").Inc()
		writeError(w, http.StatusForbidden, "wrong hub.verify_token (MMLITE_WEBHOOK_VERIFY_TOKEN) or hub.mode")
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, q.Get("hub.challenge"))
}

// receive is POST /webhooks/whatsapp: authenticate, record, answer fast.
// A 401 changes nothing; any failure to record answers 500, so that the
// provider delivers again (every step is idempotent).
// What can be checked without the body (the secret, a signature header at
// all) is checked before it is read, so that such a refusal costs nothing;
// a body over SmallWebhook waits for one of the LargeWebhooks slots, so
// that webhooks cost a bounded amount of memory however many come at once.
func (s *Server) receive(w http.ResponseWriter, r *http.Request) {
	if reason := s.authenticateHeaders(r); reason != "" {
		s.refuse(w, reason)
		return
	}
	body, release, err := s.readWebhook(w, r)
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			err = tooLarge{tooBig, "the provider's batches are smaller; raise MMLITE_MAX_WEBHOOK_BODY if this one is genuine"}
		case !errors.Is(err, context.Canceled):
			// The client sent less than it declared, went away or stalled
			// (see LargeWebhookRead): its mistake (the provider delivers
			// again), not the api's.
			s.log.Warn("webhook body not read", "err", err)
			err = bad("could not read the webhook body: %v", err)
		}
		s.fail(w, err, nil)
		return
	}
	defer release()
	if reason := s.authenticate(r, body); reason != "" {
		s.refuse(w, reason)
		return
	}
	ev, err := webhook.Parse(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "malformed webhook: "+err.Error())
		return
	}
	// The intake's client waits for a command's reply once it is sent
	// (see intakeClient): a client gone already is answered now.
	if err := r.Context().Err(); err != nil {
		s.fail(w, err, nil)
		return
	}
	always, relayed := s.storeRelay(r.Context(), body, r.Header, ev)
	wrote, recErr := s.record(r.Context(), ev, always)
	relayErr := relayed()
	if always != nil && !wrote && recErr != nil && relayErr == nil && r.Context().Err() == nil &&
		!redisconn.Unavailable(recErr) && !errors.Is(recErr, redis.ErrClosed) {
		// The step that was to write the relay tasks did not: they are
		// written on their own, so that a webhook mmlite cannot record
		// (until the provider gives up) still reaches the destinations.
		// (When Redis cannot serve, another wait would only hold the
		// webhook longer.)
		relayErr = s.relay.Write(r.Context(), always)
	}
	gone := func(err error) bool { return errors.Is(err, context.Canceled) }
	switch {
	case relayErr != nil && !gone(relayErr):
		s.log.Error("webhook not stored for relay; the provider will deliver it again", "err", errors.Join(relayErr, recErr))
		writeError(w, http.StatusInternalServerError, "could not store the webhook for relay; deliver it again")
	case recErr != nil && !gone(recErr):
		s.log.Error("webhook not recorded; the provider will deliver it again", "err", recErr)
		writeError(w, http.StatusInternalServerError, "could not record the events; deliver them again")
	case recErr != nil || relayErr != nil: // the client went away
		s.fail(w, errors.Join(recErr, relayErr), nil)
	default:
		received{Statuses: len(ev.Statuses), Clicks: len(ev.Clicks), AccountUpdates: len(ev.Accounts)}.write(w)
	}
}

// received answers a recorded webhook.
type received struct {
	Statuses       int `json:"statuses"`
	Clicks         int `json:"clicks"`
	AccountUpdates int `json:"account_updates"`
}

// write answers with rc: the bytes writeJSON writes, without its
// reflection (webhooks come by the thousand).
func (rc received) write(w http.ResponseWriter) {
	b := make([]byte, 0, 64)
	b = append(b, `{"statuses":`...)
	b = strconv.AppendInt(b, int64(rc.Statuses), 10)
	b = append(b, `,"clicks":`...)
	b = strconv.AppendInt(b, int64(rc.Clicks), 10)
	b = append(b, `,"account_updates":`...)
	b = strconv.AppendInt(b, int64(rc.AccountUpdates), 10)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

func (s *Server) refuse(w http.ResponseWriter, reason string) {
	s.wm.auth.WithLabelValues(reason).Inc()
	writeError(w, http.StatusUnauthorized, "webhook not authenticated: "+reason)
}

// readWebhook reads a body of up to SmallWebhook bytes at once, and a
// larger one (up to MaxWebhookBody) once it holds one of the LargeWebhooks
// slots, at a pace (see pacedReader); release frees the slot (after the body
// is parsed and recorded: its events cost memory too).
func (s *Server) readWebhook(w http.ResponseWriter, r *http.Request) (body []byte, release func(), err error) {
	if r.ContentLength > s.cfg.MaxWebhookBody { // no need to wait for a slot to refuse it
		return nil, nil, &http.MaxBytesError{Limit: s.cfg.MaxWebhookBody}
	}
	rd := http.MaxBytesReader(w, r.Body, s.cfg.MaxWebhookBody)
	small := min(SmallWebhook, s.cfg.MaxWebhookBody)
	release = func() {}
	if r.ContentLength <= small { // unknown (-1) or small: read what comes
		if body, err = io.ReadAll(io.LimitReader(rd, small+1)); err != nil || int64(len(body)) <= small {
			return body, release, err
		}
	}
	if release, err = wait(r.Context(), s.hooks); err != nil {
		return nil, nil, err
	}
	paced := &pacedReader{r: rd, rc: http.NewResponseController(w), start: time.Now(), grace: s.cfg.LargeWebhookRead}
	if err := paced.extend(); err != nil {
		release()
		return nil, nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(max(r.ContentLength, small), s.cfg.MaxWebhookBody)+bytes.MinRead))
	buf.Write(body)
	if _, err := buf.ReadFrom(paced); err != nil {
		release()
		return nil, nil, err
	}
	return buf.Bytes(), release, nil
}

// MinLargeWebhookRate is the pace a large webhook must keep, after
// LargeWebhookRead of grace, once it holds a slot: a client that stalls
// (the server's own read timeout is long, for uploads) gives its slot back
// in seconds, one that sends steadily, however slowed by a busy machine,
// is not cut.
const MinLargeWebhookRate = 16 << 10 // bytes a second

// pacedReader reads a large webhook's body, moving the connection's read
// deadline on as the bytes come: the n-th byte is due LargeWebhookRead
// plus n at MinLargeWebhookRate after the slot was taken.
type pacedReader struct {
	r     io.Reader
	rc    *http.ResponseController
	start time.Time
	grace time.Duration
	n     int64
}

func (p *pacedReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if n > 0 && err == nil {
		err = p.extend()
	}
	return n, err
}

// extend sets the read deadline for what came so far; a server that
// cannot set one (HTTP/2 through some proxies) reads without.
func (p *pacedReader) extend() error {
	due := p.start.Add(p.grace + time.Duration(float64(p.n)/MinLargeWebhookRate*float64(time.Second)))
	if err := p.rc.SetReadDeadline(due); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// authenticateHeaders returns why a webhook is refused before its body is
// read, or "". With both providers configured, either credential is
// enough: 360dialog's secret header, or Meta's signature (checked once the
// body is read).
func (s *Server) authenticateHeaders(r *http.Request) string {
	switch {
	case s.cfg.refusesWebhooks():
		return "not_configured"
	case s.secretOK(r), s.cfg.WebhookSecret == "" && s.cfg.AppSecret == "":
		return ""
	case s.cfg.AppSecret != "" && r.Header.Get(webhook.SignatureHeader) != "":
		return ""
	case s.cfg.AppSecret == "" || r.Header.Get(webhook.SecretHeader) != "" && s.cfg.WebhookSecret != "":
		return "secret"
	}
	return "signature"
}

// authenticate returns why a webhook is refused once its body is read, or
// "": a webhook that passed authenticateHeaders without a valid secret
// carries a signature.
func (s *Server) authenticate(r *http.Request, body []byte) string {
	if s.cfg.AppSecret != "" && !s.secretOK(r) && !webhook.SignatureOK(s.cfg.AppSecret, body, r.Header.Get(webhook.SignatureHeader)) {
		return "signature"
	}
	return ""
}

// secretOK says whether the webhook carries 360dialog's valid secret.
func (s *Server) secretOK(r *http.Request) bool {
	return s.cfg.WebhookSecret != "" && webhook.SecretOK(s.cfg.WebhookSecret, r.Header.Get(webhook.SecretHeader))
}

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
	for _, st := range sts {
		s.wm.events.WithLabelValues("status", statusLabel(st.Status)).Inc()
	}
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

// recordQuick records statuses in one step each, which looks their
// message up, counts the status once and writes its status task (see
// store.StatusShape); always are written with the first. It returns the
// statuses it could not record so (of a message it did not know, say),
// for recordTracked.
func (s *Server) recordQuick(ctx context.Context, sts []webhook.Status, always *store.ResultTask) (rest []webhook.Status, err error) {
	ds := make([]store.Delivery, len(sts))
	for i, st := range sts {
		ds[i] = store.Delivery{WAMID: st.WAMID, Status: st.Status, Category: st.PricingCategory, At: st.Timestamp.Unix()}
		ev := task.StatusEvent{WAMID: st.WAMID, Status: st.Status, PricingCategory: st.PricingCategory, Timestamp: st.Timestamp}
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
	for i, st := range sts {
		ds[i] = store.Delivery{WAMID: st.WAMID, Status: st.Status, Category: st.PricingCategory, At: st.Timestamp.Unix()}
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
			PricingCategory: st.PricingCategory, Timestamp: st.Timestamp}
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

func statusLabel(s string) string {
	switch s {
	case "sent", "delivered", "read", "failed":
		return s
	}
	return "other"
}

func accountLabel(e string) string {
	switch e {
	case webhook.OnboardedEvent, "ACCOUNT_VIOLATION", "DISABLED_UPDATE", "ACCOUNT_DELETED", "ACCOUNT_UPDATE", "VERIFIED_ACCOUNT":
		return e
	}
	return "other"
}
