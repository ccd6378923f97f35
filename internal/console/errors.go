package console

import (
	"context"
	"errors"
	"net/http"

	"github.com/mmlite/mmlite/internal/results"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/producer"
)

// fail shows an error of the store or the producer with its status (the
// same as the API's); an unexpected one is logged and shown as internal.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := statusOf(err)
	msg := err.Error()
	if code == http.StatusInternalServerError {
		c.log.Error("console: request failed", "err", err)
		msg = "internal error (see the api's log)"
	}
	c.errorPage(w, r, code, msg)
}

func statusOf(err error) int {
	var ve *campaign.ValidationError
	var noCol *results.ErrNoColumn
	switch {
	case errors.Is(err, campaign.ErrNotFound), errors.Is(err, store.ErrNoRecipient):
		return http.StatusNotFound
	case errors.Is(err, campaign.ErrConflict), errors.Is(err, campaign.ErrState), errors.Is(err, producer.ErrCancelled),
		errors.Is(err, producer.ErrSealed):
		return http.StatusConflict
	case errors.Is(err, producer.ErrNoMatch), errors.As(err, &noCol), errors.Is(err, results.ErrHeader):
		return http.StatusUnprocessableEntity
	case errors.As(err, &ve), errors.Is(err, producer.ErrBadRecipient), errors.Is(err, producer.ErrUnknownSender), errors.As(err, new(formError)):
		return http.StatusBadRequest
	case errors.Is(err, producer.ErrNoWorker):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// formError is a form field the console cannot read.
type formError struct{ msg string }

func (e formError) Error() string { return e.msg }
