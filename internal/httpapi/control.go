package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/sender"
)

// control serves POST /v1/campaigns/{id}/pause|resume|cancel: 200 and the
// new status, 409 when the state does not allow it.
func (s *Server) control(op func(context.Context, string) (*campaign.Status, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, err := op(r.Context(), r.PathValue("id"))
		if err != nil {
			s.fail(w, err, nil)
			return
		}
		writeJSON(w, http.StatusOK, st)
	}
}

// senderView is GET /v1/senders/{id}: what workers published, onboarding
// and link clicks by tracking token.
type senderView struct {
	sender.Published
	OnboardedAt *time.Time       `json:"onboarded_at"`
	Clicks      map[string]int64 `json:"clicks"`
}

func (s *Server) getSender(w http.ResponseWriter, r *http.Request) {
	p, ok := s.publishedSender(w, r)
	if !ok {
		return
	}
	v := senderView{Published: p}
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
