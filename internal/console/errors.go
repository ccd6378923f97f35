package console

import (
	"errors"
	"net/http"
)

// fail shows an error of the store or the producer with the status and
// message the API gives it; an unexpected one is logged and shown as
// internal.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := c.classify(err)
	if code == http.StatusInternalServerError {
		c.log.Error("console: request failed", "err", err)
		msg = "internal error (see the api's log)"
	}
	c.errorPage(w, r, code, msg)
}

// formFault says whether err is about what a form holds, with the status
// and message of it: a 4xx other than 404 (a 404 is no such campaign or
// list, whose page cannot be shown). Such a form's page shows again, as the
// operator filled it, with the message next to it; any other error is
// fail's.
func (c *Console) formFault(err error) (code int, msg string, ok bool) {
	code, msg = c.classify(err)
	return code, msg, code >= 400 && code < 500 && code != http.StatusNotFound
}

// refuse shows the page name again when err is about what its form holds
// (see formFault): build makes the page, as the operator filled the form,
// with the message and the input at fault ("" for none). Any other error,
// or one building the page, is fail's.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request, err error, name string, build func(msg, field string) (page, error)) {
	code, msg, ok := c.formFault(err)
	if !ok {
		c.fail(w, r, err)
		return
	}
	var fe formError
	errors.As(err, &fe)
	p, err := build(msg, fe.field)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, code, name, p)
}

func (c *Console) classify(err error) (int, string) {
	var fe formError
	if errors.As(err, &fe) {
		return http.StatusBadRequest, fe.msg
	}
	var nf notFound
	if errors.As(err, &nf) {
		return http.StatusNotFound, nf.msg
	}
	return c.cfg.Classify(err)
}

// formError is a form field the console cannot read: field names it (the
// form's input, for the page to mark; "" for none) apart from the message,
// whose words are the operator's to read, not the console's to parse.
type formError struct{ msg, field string }

func (e formError) Error() string { return e.msg }

// notFound is a thing the console does not know.
type notFound struct{ msg string }

func (e notFound) Error() string { return e.msg }
