package httpapi

import (
	"context"
	"errors"
	"net/http"
)

// relayed stores an authenticated webhook for its relay destinations, before
// it is answered: once the provider has its 200, the webhook is in Redis for
// each of them. It answers the failure itself and reports false when it
// could not (the provider delivers again; the relay task's id keeps a copy
// still queued single).
func (s *Server) relayed(w http.ResponseWriter, r *http.Request, body []byte) bool {
	if s.relay == nil {
		return true
	}
	err := s.relay.Store(r.Context(), body, r.Header)
	switch {
	case err == nil:
		return true
	case errors.Is(err, context.Canceled):
		s.fail(w, err, nil)
	default:
		s.log.Error("webhook not stored for relay; the provider will deliver it again", "err", err)
		writeError(w, http.StatusInternalServerError, "could not store the webhook for relay; deliver it again")
	}
	return false
}
