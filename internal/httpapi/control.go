package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/producer"
)

// control serves POST /v1/campaigns/{id}/pause|resume|cancel: 200 and the
// new status, 409 when the state does not allow it. A cancel whose wait
// for the sends in flight ran out took effect: 202, the status, and how
// many sends were still in flight.
func (s *Server) control(op func(context.Context, string) (*campaign.Status, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, err := op(r.Context(), r.PathValue("id"))
		var inFlight *producer.InFlightError
		if errors.As(err, &inFlight) && st != nil {
			writeJSON(w, http.StatusAccepted, inFlightStatus{Status: st, InFlight: inFlight.Jobs, Detail: inFlight.Detail()})
			return
		}
		if err != nil {
			s.fail(w, err, nil)
			return
		}
		writeJSON(w, http.StatusOK, st)
	}
}

// inFlightStatus is the answer of a cancel that took effect while sends of
// the campaign were still in flight.
type inFlightStatus struct {
	*campaign.Status
	InFlight int    `json:"in_flight"`
	Detail   string `json:"detail"`
}

// senderView is GET /v1/senders/{id}: the sender as GET /v1/senders lists
// it, with when it was onboarded and its link clicks by tracking token.
type senderView struct {
	*guard.SenderView
	OnboardedAt *time.Time       `json:"onboarded_at"`
	Clicks      map[string]int64 `json:"clicks"`
}

func (s *Server) getSender(w http.ResponseWriter, r *http.Request) {
	p, ok := s.publishedSender(w, r)
	if !ok {
		return
	}
	listed, err := s.guard.SenderView(r.Context(), s.senders, p)
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	v := senderView{SenderView: listed}
	at, err := s.senders.Onboarded(r.Context(), p.WABAID)
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	if !at.IsZero() {
		v.OnboardedAt = &at
	}
	if v.Clicks, err = s.senders.Clicks(r.Context(), p.ID); err != nil {
		s.fail(w, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) listSenders(w http.ResponseWriter, r *http.Request) {
	out, err := s.guard.SenderViews(r.Context(), s.senders)
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"senders": out})
}
