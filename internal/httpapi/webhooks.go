package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/internal/webhook"
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
	// The challenge is the caller's text, echoed: never read as HTML.
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
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
		msg := "malformed webhook: " + err.Error()
		if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
			// The providers send webhooks uncompressed; so must a client.
			msg += " (Content-Encoding " + ce + " is not read: send the webhook uncompressed)"
		}
		writeError(w, http.StatusBadRequest, msg)
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
