package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/pkg/sender"
)

// guardRoutes registers the protections' endpoints (see docs/http-api.md).
func (s *Server) guardRoutes(v1 func(string, http.HandlerFunc, ...string), ctl func(string, http.HandlerFunc)) {
	v1("POST /v1/suppressions", s.addSuppressions, "scope", "sender")
	v1("GET /v1/suppressions", s.listSuppressions, "scope", "sender", "limit", "cursor")
	v1("DELETE /v1/suppressions/{scope}/{to}", s.deleteSuppression)
	ctl("POST /v1/senders/{id}/pause", s.pauseSender)
	ctl("POST /v1/senders/{id}/resume", s.resumeSender)
}

// scopeOf reads ?scope= (a WABA id, or a sender id for a sender without
// one) or ?sender= (its scope); known says whether a published sender has
// it. An unknown sender is ErrUnknownScope; both given, a bad request.
func (s *Server) scopeOf(r *http.Request) (scope string, known bool, err error) {
	scope, known, err = guard.ScopeOf(r.Context(), s.senders, r.URL.Query().Get("sender"), r.URL.Query().Get("scope"))
	if errors.Is(err, guard.ErrScopeAndSender) {
		err = badRequest{err}
	}
	return scope, known, err
}

// addSuppressions is POST /v1/suppressions?scope=|sender=: a JSON list of
// {"to", "reason"} or CSV (to,reason). Good entries are added; bad ones are
// listed with their line (CSV) or index (JSON), and the answer is 200 with
// both counts. An import that stops on its body (see guard.ReadEntries) is
// a 400 that says where, with what it added before.
func (s *Server) addSuppressions(w http.ResponseWriter, r *http.Request) {
	if err := onceEach(r.URL.Query(), "scope", "sender"); err != nil {
		s.fail(w, err, nil)
		return
	}
	scope, known, err := s.scopeOf(r)
	switch {
	case errors.Is(err, guard.ErrUnknownScope):
		writeError(w, http.StatusNotFound, err.Error())
		return
	case err != nil:
		s.fail(w, err, nil)
		return
	case scope == "":
		writeError(w, http.StatusBadRequest, "name the suppression list: ?scope=<waba_id> or ?sender=<sender id>")
		return
	case !known:
		writeError(w, http.StatusNotFound, registry.ScopeNotPublished(scope).Error()+": see GET /v1/senders")
		return
	}
	// One of the intake's slots: an import holds about a batch and a line
	// (some 1 MiB), and only so many bodies are read at once.
	release, err := s.waitIntake(r.Context())
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	defer release()
	sum, err := s.guard.Import(r.Context(), scope, http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload), guard.SourceAPI)
	ans := importAnswer{Scope: scope, ImportSummary: sum}
	if err != nil {
		var bi *guard.BadImportError
		var tooBig *http.MaxBytesError
		code, msg := classify(err)
		switch {
		case errors.As(err, &bi):
			code, msg = http.StatusBadRequest, err.Error()
		case errors.As(err, &tooBig):
			msg = fmt.Sprintf("the import is larger than %d bytes (MMLITE_MAX_UPLOAD): split the file (the entries before the limit were added; adding them again is safe)", tooBig.Limit)
		}
		if code == http.StatusInternalServerError {
			s.log.Error("suppression import failed", "err", err, "added", sum.Added)
		}
		ans.Error = msg
		writeJSON(w, code, ans)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

// importAnswer answers an import; an import that stopped part-way says
// why, with what it added before.
type importAnswer struct {
	Error string `json:"error,omitempty"`
	Scope string `json:"scope"`
	guard.ImportSummary
}

// listSuppressions is GET /v1/suppressions?scope=&cursor=&limit=: one page
// of a list; without a scope, the scopes that have one.
func (s *Server) listSuppressions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := onceEach(q, "scope", "sender", "limit", "cursor"); err != nil {
		s.fail(w, err, nil)
		return
	}
	if q.Get("scope") == "" && q.Get("sender") == "" {
		if q.Get("limit") != "" || q.Get("cursor") != "" {
			writeError(w, http.StatusBadRequest, "limit and cursor page one list: name it with scope or sender (without them, the answer is the scopes that have a list)")
			return
		}
		scopes, err := s.guard.Scopes(r.Context())
		if err != nil {
			s.fail(w, err, nil)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"scopes": scopes})
		return
	}
	scope, _, err := s.scopeOf(r)
	if errors.Is(err, guard.ErrUnknownScope) {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > guard.MaxPageSize {
			writeError(w, http.StatusBadRequest, "limit must be 1 to "+strconv.Itoa(guard.MaxPageSize))
			return
		}
	}
	page, err := s.guard.List(r.Context(), scope, q.Get("cursor"), limit)
	switch {
	case errors.Is(err, guard.ErrUnknownScope):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, guard.ErrBadCursor):
		badCursor(w, q.Get("cursor"))
	case err != nil:
		s.fail(w, err, nil)
	default:
		writeJSON(w, http.StatusOK, page)
	}
}

// deleteSuppression is DELETE /v1/suppressions/{scope}/{to}.
func (s *Server) deleteSuppression(w http.ResponseWriter, r *http.Request) {
	to, ok, err := s.guard.Unsuppress(r.Context(), r.PathValue("scope"), r.PathValue("to"))
	switch {
	case errors.Is(err, guard.ErrUnknownScope):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, guard.ErrBadNumber):
		writeError(w, http.StatusBadRequest, err.Error())
	case err != nil:
		s.fail(w, err, nil)
	case !ok:
		writeError(w, http.StatusNotFound, "the recipient is not on the suppression list of "+r.PathValue("scope"))
	default:
		writeJSON(w, http.StatusOK, map[string]any{"scope": r.PathValue("scope"), "to": to, "removed": true})
	}
}

// pauseSender is POST /v1/senders/{id}/pause: the operator's sender pause.
func (s *Server) pauseSender(w http.ResponseWriter, r *http.Request) {
	p, ok := s.publishedSender(w, r)
	if !ok {
		return
	}
	if _, err := s.guard.PauseSender(r.Context(), p.ID, guard.ReasonOperator, 0, guard.SourceAPI); err != nil {
		s.fail(w, err, nil)
		return
	}
	s.answerSender(w, r, p)
}

// resumeSender is POST /v1/senders/{id}/resume: the sender sends again, and
// the campaigns its guard paused resume.
func (s *Server) resumeSender(w http.ResponseWriter, r *http.Request) {
	p, ok := s.publishedSender(w, r)
	if !ok {
		return
	}
	resumed, err := s.guard.ResumeSender(r.Context(), p.ID, s.resume)
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	s.log.Info("sender resumed", "sender", p.ID, "campaigns_resumed", len(resumed))
	s.answerSender(w, r, p)
}

func (s *Server) publishedSender(w http.ResponseWriter, r *http.Request) (sender.Published, bool) {
	p, err := s.senders.Published(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, registry.ErrNotPublished):
		writeError(w, http.StatusNotFound, err.Error())
	case err != nil:
		s.fail(w, err, nil)
	}
	return p, err == nil
}

func (s *Server) answerSender(w http.ResponseWriter, r *http.Request, p sender.Published) {
	v, err := s.guard.SenderView(r.Context(), s.senders, p)
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
