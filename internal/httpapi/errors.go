package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/mmlite/mmlite/internal/httpserve"
	"github.com/mmlite/mmlite/internal/results"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/producer"
)

// errorBody is every error answer; Summary is set when some rows were
// already enqueued when the request failed, so that nothing accepted is lost
// from the caller's view.
type errorBody struct {
	Error   string            `json:"error"`
	Summary *producer.Summary `json:"summary,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

// fail answers an error of the producer or the request with its status.
// A request cut short by the api's shutdown (see httpserve.Serve) is 503:
// the client sends it again, to another replica.
func (s *Server) fail(w http.ResponseWriter, err error, sum *producer.Summary) {
	if errors.Is(err, context.Canceled) && errors.Is(requestCause(w), httpserve.ErrShuttingDown) {
		err = fmt.Errorf("%w: %w", httpserve.ErrShuttingDown, err)
	}
	code, msg := classify(err)
	switch {
	case code == http.StatusInternalServerError:
		s.log.Error("request failed", "err", err)
	case code == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
		s.log.Warn("request cut short by the api's shutdown", "err", err)
	case errors.Is(err, context.Canceled):
		s.log.Warn("request abandoned by the client", "err", err)
	}
	if sum != nil && sum.Rows() == 0 {
		sum = nil
	}
	if msg == shuttingDown && sum != nil {
		msg += " (rows it kept, in the summary, count as duplicates)"
	}
	writeJSON(w, code, errorBody{Error: msg, Summary: sum})
}

// shuttingDown answers a request the api's shutdown cut short.
const shuttingDown = "the api is shutting down: send the request again"

// badRequest marks errors in what the client sent.
type badRequest struct{ err error }

func (e badRequest) Error() string { return e.err.Error() }
func (e badRequest) Unwrap() error { return e.err }

func bad(format string, a ...any) error { return badRequest{fmt.Errorf(format, a...)} }

// onceEach refuses a query parameter of names given more than once (see
// httpserve.Once), as a bad request.
func onceEach(q url.Values, names ...string) error {
	if err := httpserve.Once(q, names...); err != nil {
		return badRequest{err}
	}
	return nil
}

// tooLarge is a body over its limit, with advice that fits its request.
type tooLarge struct {
	err    *http.MaxBytesError
	advice string
}

func (e tooLarge) Error() string {
	return fmt.Sprintf("request body is larger than %d bytes: %s", e.err.Limit, e.advice)
}
func (e tooLarge) Unwrap() error { return e.err }

func classify(err error) (int, string) {
	var ve *campaign.ValidationError
	var tl tooLarge
	var tooBig *http.MaxBytesError
	var br badRequest
	var noCol *results.ErrNoColumn
	var inFlight *producer.InFlightError
	switch {
	case errors.As(err, &inFlight):
		// A cancel that took effect (the console shows it so; the API
		// answers it with the status, see control).
		return http.StatusAccepted, inFlight.Detail()
	case errors.Is(err, producer.ErrNoMatch), errors.As(err, &noCol), errors.Is(err, results.ErrHeader):
		return http.StatusUnprocessableEntity, err.Error()
	case errors.Is(err, producer.ErrNoWorker):
		return http.StatusGatewayTimeout, err.Error()
	case errors.Is(err, producer.ErrBadRecipient):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, store.ErrNoRecipient):
		return http.StatusNotFound, err.Error()
	case errors.As(err, &tl):
		return http.StatusRequestEntityTooLarge, tl.Error()
	case errors.As(err, &tooBig): // a campaign's body, an upload of recipients
		return http.StatusRequestEntityTooLarge, tooLarge{tooBig, "send the recipients in several requests to /v1/campaigns/{id}/recipients"}.Error()
	case errors.As(err, &ve), errors.Is(err, producer.ErrUnknownSender), errors.As(err, &br):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, httpserve.ErrShuttingDown):
		return http.StatusServiceUnavailable, shuttingDown
	case errors.Is(err, context.Canceled):
		// Otherwise request contexts end only when the client closes the
		// connection.
		return http.StatusBadRequest, "the request was cancelled: the client closed the connection"
	case errors.Is(err, campaign.ErrNotFound):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, campaign.ErrConflict), errors.Is(err, producer.ErrCancelled), errors.Is(err, campaign.ErrState),
		errors.Is(err, producer.ErrSealed):
		return http.StatusConflict, err.Error()
	}
	return http.StatusInternalServerError, "internal error"
}

func itoa(n int) string { return strconv.Itoa(n) }

// requestCause is why the context of the request w answers ended, if it
// did (see Server.handle).
func requestCause(w http.ResponseWriter) error {
	if sw, ok := w.(*statusWriter); ok && sw.ctx != nil {
		return context.Cause(sw.ctx)
	}
	return nil
}
