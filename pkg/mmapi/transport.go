package mmapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"syscall"
)

// transportError classifies a failure without an answer: before the request
// was written nothing was sent; after it, the API may have accepted it.
// Its title says what happened in words: it becomes the title of the
// recipient's result, where the provider's URL and the local address that
// Go's error text carries have no place.
func transportError(err error, written bool) *Error {
	e := &Error{Class: ClassTransient, Err: err, Title: transportProblem(err, written) + ": nothing was sent"}
	if written {
		e.Class = ClassAmbiguous
		e.Title = transportProblem(err, written) + ": the message may have been sent"
	}
	return e
}

// transportProblem names a network failure without addresses.
func transportProblem(err error, written bool) string {
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	var recordHeader tls.RecordHeaderError
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "the request was cancelled (the worker is stopping)"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		if written {
			return "no answer within the HTTP timeout after the request was sent"
		}
		return "the HTTP timeout ran out before the request was sent"
	case errors.As(err, &dns):
		return "could not resolve the API's host name"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "could not connect to the API (connection refused)"
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &certInvalid), errors.As(err, &recordHeader):
		return "the TLS handshake with the API failed (certificate or protocol)"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		if written {
			return "the connection was reset after the request was sent, without an answer"
		}
		return "the connection was reset before the request was sent"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		if written {
			return "the connection closed after the request was sent, without an answer"
		}
		return "the connection closed before the request was sent"
	}
	if written {
		return "a network error after the request was sent, without an answer"
	}
	return "a network error before the request was sent"
}

// brokenAnswer is a success status whose body broke off: the API accepted
// the request, but the message id was lost.
func brokenAnswer(status int, err error) *Error {
	return &Error{Class: ClassAmbiguous, HTTPStatus: status, Err: err,
		Title: "the answer broke off after a success status: the message may have been sent"}
}
