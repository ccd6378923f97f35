package mmapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Error is a failed send: an error answer from the API, a success answer
// without a message id, or a transport failure (HTTPStatus 0, Err set).
type Error struct {
	Class      Class
	HTTPStatus int    // 0 when no answer was received
	Code       int    // Meta error code; see HasCode
	HasCode    bool   // the answer carried a numeric code (0 is a real code)
	Subcode    int    // error_subcode, when given
	Title      string // short text: error_user_title, the message, or the body
	Details    string // error_data.details
	FBTraceID  string
	// RetryAfter is the server's Retry-After, capped by the client; 0 if none.
	RetryAfter time.Duration
	// Err is the transport error when no answer was received.
	Err error

	rateLimited bool
	isTransient bool
}

// Error describes the failure without request data: no key, no recipient,
// and for a network failure no URL or address (Err keeps Go's own text).
func (e *Error) Error() string {
	switch {
	case e.HasCode:
		return fmt.Sprintf("mmapi: %s: http %d: code %d: %s", e.Class, e.HTTPStatus, e.Code, e.Title)
	case e.HTTPStatus == 0:
		return fmt.Sprintf("mmapi: %s: %s", e.Class, e.Title)
	default:
		return fmt.Sprintf("mmapi: %s: http %d: %s", e.Class, e.HTTPStatus, e.Title)
	}
}

// Unwrap returns the transport error, if any.
func (e *Error) Unwrap() error { return e.Err }

// graphError is Meta's error object, also wrapped by 360dialog.
type graphError struct {
	Message     string          `json:"message"`
	Type        string          `json:"type"`
	Code        *int            `json:"code"`
	Subcode     int             `json:"error_subcode"`
	UserTitle   string          `json:"error_user_title"`
	UserMsg     string          `json:"error_user_msg"`
	IsTransient bool            `json:"is_transient"`
	FBTraceID   string          `json:"fbtrace_id"`
	ErrorData   json.RawMessage `json:"error_data"`
	Title       string          `json:"title"`   // webhook-style errors[]
	TopDetails  string          `json:"details"` // some proxies flatten it
}

// envelope covers every error shape the two providers send.
type envelope struct {
	Error  json.RawMessage `json:"error"` // Graph object, or 360dialog's string
	Detail *struct {
		Error *graphError `json:"error"`
	} `json:"detail"`
	Errors []graphError `json:"errors"`
	Meta   *struct {
		DeveloperMessage string `json:"developerMessage"`
	} `json:"meta"`
	Message string `json:"message"`
}

// parseError fills an Error from an error answer's status and body.
func parseError(status int, body []byte) *Error {
	e := &Error{HTTPStatus: status}
	e.rateLimited = bytes.Contains(bytes.ToLower(body), []byte(rateLimitText))
	var env envelope
	if err := decode(body, &env); err != nil {
		e.Title = orRedirect(status, snippet(body))
		return e
	}
	var g *graphError
	switch {
	case len(env.Error) > 0 && env.Error[0] == '{':
		g = new(graphError)
		if decode(env.Error, g) != nil {
			g = nil
		}
	case len(env.Error) > 0 && env.Error[0] == '"':
		_ = json.Unmarshal(env.Error, &e.Title)
	case env.Detail != nil && env.Detail.Error != nil:
		g = env.Detail.Error
	case len(env.Errors) > 0:
		g = &env.Errors[0]
	case env.Meta != nil && env.Meta.DeveloperMessage != "":
		e.Title = env.Meta.DeveloperMessage
	case env.Message != "":
		e.Title = env.Message
	}
	if g != nil {
		fillFromGraph(e, g)
	}
	if e.Title == "" {
		e.Title = orRedirect(status, snippet(body))
	}
	e.Title, e.Details = clip(e.Title), clip(e.Details)
	return e
}

// orRedirect is the title of an answer that carries none of the
// provider's: its body's snippet, or for a redirect (whose page says
// nothing more) what it means.
func orRedirect(status int, snippet string) string {
	if status >= 300 && status < 400 {
		return "the API answered with a redirect, which is not followed: check the sender's base_url (MMLITE_API_BASE_URL)"
	}
	return snippet
}

// MaxText bounds an error's title and details, which every result of the
// recipient carries: whatever the answer says, a result stays small.
const MaxText = 1000

// clip bounds a text and makes it valid UTF-8.
func clip(s string) string {
	if len(s) > MaxText {
		s = s[:MaxText] + "..."
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	return s
}

func fillFromGraph(e *Error, g *graphError) {
	if g.Code != nil {
		e.Code, e.HasCode = *g.Code, true
	}
	e.Subcode, e.FBTraceID, e.isTransient = g.Subcode, g.FBTraceID, g.IsTransient
	e.Title = firstNonEmpty(g.UserTitle, g.Message, g.Title, g.UserMsg)
	var data struct {
		Details string `json:"details"`
	}
	if len(g.ErrorData) > 0 && g.ErrorData[0] == '{' {
		_ = decode(g.ErrorData, &data)
	}
	e.Details = firstNonEmpty(data.Details, g.TopDetails)
}

// decode is json.Unmarshal that takes a field of another type than v's
// (a subcode as a string, a trace id as a number) as unknown: encoding/json
// reads the other fields all the same, and a provider's odd field must not
// cost an answer its code, nor a success its wamid. Only JSON that does
// not parse is an error.
func decode(b []byte, v any) error {
	err := json.Unmarshal(b, v)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return nil
	}
	return err
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// snippet turns a non-JSON body into a short, printable title.
func snippet(b []byte) string {
	const max = 200
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > max {
		s = s[:max] + "..."
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	return s
}
