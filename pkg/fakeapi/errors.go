package fakeapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Bodies 360dialog answers with itself (byte for byte as in its docs).
const (
	body360InvalidKey = `{"error": "Invalid api token."}`
	body360RateLimit  = `{"meta": {"success": false, "httpCode": 400, "developerMessage": "You have exceeded the endpoint rate limit."}}`
	body360TooMany    = `{"meta": {"success": false, "httpCode": 429, "developerMessage": "You have exceeded the endpoint rate limit."}}`
	body500           = `{"error": "Internal server error"}`
	body502           = `WhatsApp for Business API not available`
	body503           = `{"error": "Service unavailable"}`
)

const (
	contentJSON = "application/json"
	contentText = "text/plain; charset=utf-8"
)

// apiError is a Meta-coded error before it is put in an envelope.
type apiError struct {
	status  int
	code    int
	message string // "(#code) title", or a bare text for a few codes
	details string // error_data.details; omitted when empty
}

// codeInfo is what the table knows about a Meta error code.
type codeInfo struct {
	title   string
	details string // default: the title
	bare    bool   // message is the title without the "(#code) " prefix
}

// lookupCode is the table of known codes; titles follow Meta's public docs.
func lookupCode(code int) (codeInfo, bool) {
	switch code {
	case 0:
		return codeInfo{title: "AuthException", details: "We were unable to authenticate the app user."}, true
	case 1:
		return codeInfo{title: "API Unknown", details: "Invalid request or possible server error."}, true
	case 2:
		return codeInfo{title: "API Service", details: "Temporary due to downtime or due to being overloaded."}, true
	case 4:
		return codeInfo{title: "Application request limit reached"}, true
	case 10:
		return codeInfo{title: "Permission Denied"}, true
	case 100:
		return codeInfo{title: "Invalid parameter"}, true
	case 190:
		return codeInfo{title: "Invalid OAuth access token - Cannot parse access token", bare: true}, true
	case 368:
		return codeInfo{title: "Temporarily blocked for policies violations"}, true
	case 80007:
		return codeInfo{title: "Rate limit issues"}, true
	case 130429:
		return codeInfo{title: "Rate limit hit", details: "Cloud API message throughput has been reached."}, true
	case 130497:
		return codeInfo{title: "Business account is restricted from messaging users in this country"}, true
	case 131000:
		return codeInfo{title: "Something went wrong"}, true
	case 131005:
		return codeInfo{title: "Access denied"}, true
	case 131008:
		return codeInfo{title: "Required parameter is missing"}, true
	case 131009:
		return codeInfo{title: "Parameter value is not valid"}, true
	case 131016:
		return codeInfo{title: "Service unavailable"}, true
	case 131021:
		return codeInfo{title: "Recipient cannot be sender"}, true
	case 131026:
		return codeInfo{title: "Message undeliverable", details: "Message Undeliverable."}, true
	case 131031:
		return codeInfo{title: "Account has been locked"}, true
	case 131042:
		return codeInfo{title: "Business eligibility payment issue"}, true
	case 131049:
		return codeInfo{
			title:   "This message was not delivered to maintain healthy ecosystem engagement.",
			details: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
		}, true
	case 131050:
		return codeInfo{title: "User has stopped marketing messages"}, true
	case 131055:
		return codeInfo{title: "Method not allowed", details: "Only marketing template messages are supported"}, true
	case 131056:
		return codeInfo{title: "(Business Account, Consumer Account) pair rate limit hit"}, true
	case 131057:
		return codeInfo{title: "Account in maintenance mode"}, true
	case 132000:
		return codeInfo{title: "Number of parameters does not match the expected number of params"}, true
	case 132001:
		return codeInfo{title: "Template name does not exist in the translation"}, true
	case 132015:
		return codeInfo{title: "Template is paused"}, true
	case 132016:
		return codeInfo{title: "Template is disabled"}, true
	case 133004:
		return codeInfo{title: "Server temporarily unavailable"}, true
	case 133010:
		return codeInfo{title: "Phone number not registered"}, true
	case 134101:
		return codeInfo{title: "Template sync in progress"}, true
	case 134102:
		return codeInfo{title: "Template unavailable"}, true
	case 135000:
		return codeInfo{title: "Generic user error"}, true
	}
	return codeInfo{}, false
}

// statusFor is the HTTP status a Meta code normally comes with.
func statusFor(code int) int {
	switch code {
	case 131000, 134102:
		return http.StatusInternalServerError
	case 2, 131016, 133004:
		return http.StatusServiceUnavailable
	case 132001:
		return http.StatusNotFound
	case 131031, 368, 130497:
		return http.StatusForbidden
	case 0, 190:
		return http.StatusUnauthorized
	}
	return http.StatusBadRequest
}

// metaError returns the standard error for code.
func metaError(code int) apiError {
	info, ok := lookupCode(code)
	if !ok {
		info.title = "Error " + strconv.Itoa(code)
	}
	e := apiError{status: statusFor(code), code: code, details: info.details}
	if e.details == "" {
		e.details = info.title
	}
	e.message = fmt.Sprintf("(#%d) %s", code, info.title)
	if info.bare {
		e.message, e.details = info.title, ""
	}
	return e
}

// badParam is a code 100 validation error with the given details.
func badParam(format string, args ...any) *apiError {
	e := metaError(100)
	e.details = fmt.Sprintf(format, args...)
	return &e
}

// outcome is the answer decided for a request.
type outcome struct {
	status      int    // HTTP status; 0 for reset and hang
	code        int    // Meta code, 0 if none
	statKey     string // Stats.ByCode key; "" for a success
	contentType string
	body        []byte
	retryAfter  bool   // set Retry-After: 1
	action      string // "", ActionReset or ActionHang
	wamid       string // on success
}

type graphError struct {
	Message   string     `json:"message"`
	Type      string     `json:"type"`
	Code      int        `json:"code"`
	ErrorData *errorData `json:"error_data,omitempty"`
	FBTraceID string     `json:"fbtrace_id"`
}

type errorData struct {
	MessagingProduct string `json:"messaging_product"`
	Details          string `json:"details"`
}

type graphEnvelope struct {
	Error graphError `json:"error"`
}

type wrappedEnvelope struct {
	Detail graphEnvelope `json:"detail"`
}

// errorOutcome puts e in the envelope of the flavor: plain Graph for Meta,
// wrapped in "detail" for 360dialog.
func (s *Server) errorOutcome(fl flavor, e apiError) outcome {
	ge := graphError{Message: e.message, Type: "OAuthException", Code: e.code, FBTraceID: s.fbtrace()}
	if e.details != "" {
		ge.ErrorData = &errorData{MessagingProduct: "whatsapp", Details: e.details}
	}
	var v any = graphEnvelope{Error: ge}
	if fl == flavor360 {
		v = wrappedEnvelope{Detail: graphEnvelope{Error: ge}}
	}
	b, _ := json.Marshal(v) // cannot fail: plain structs
	return outcome{
		status:      e.status,
		code:        e.code,
		statKey:     strconv.Itoa(e.code),
		contentType: contentJSON,
		body:        b,
		retryAfter:  e.status == http.StatusTooManyRequests,
	}
}

// statusOnly is an answer without a Meta code, as 360dialog or a proxy in
// front of it gives.
func statusOnly(status int) outcome {
	o := outcome{status: status, statKey: "http_" + strconv.Itoa(status), contentType: contentJSON}
	switch status {
	case http.StatusInternalServerError:
		o.body = []byte(body500)
	case http.StatusBadGateway:
		o.contentType, o.body = contentText, []byte(body502)
	case http.StatusServiceUnavailable:
		o.body = []byte(body503)
	case http.StatusTooManyRequests:
		o.body, o.retryAfter = []byte(body360TooMany), true
	default:
		b, _ := json.Marshal(map[string]string{"error": http.StatusText(status)})
		o.body = b
	}
	return o
}

// authFailure is the answer to a missing or unknown key or token.
func (s *Server) authFailure(fl flavor) outcome {
	if fl == flavorMeta {
		return s.errorOutcome(fl, metaError(190))
	}
	return outcome{status: http.StatusUnauthorized, statKey: "http_401", contentType: contentJSON, body: []byte(body360InvalidKey)}
}

// rateLimited is the answer to a key over its rate.
func (s *Server) rateLimited(fl flavor) outcome {
	if fl == flavorMeta {
		return s.errorOutcome(fl, metaError(130429))
	}
	return outcome{status: http.StatusBadRequest, statKey: "rate_limit", contentType: contentJSON, body: []byte(body360RateLimit)}
}

// ruleOutcome is the answer an ErrorRule gives.
func (s *Server) ruleOutcome(fl flavor, r ErrorRule) outcome {
	switch {
	case r.Action != "":
		return outcome{action: r.Action, statKey: r.Action}
	case r.Code == 0:
		return statusOnly(r.HTTPStatus)
	}
	e := metaError(r.Code)
	if r.HTTPStatus != 0 {
		e.status = r.HTTPStatus
	}
	return s.errorOutcome(fl, e)
}

// write sends o as the HTTP answer.
func (s *Server) write(w http.ResponseWriter, o outcome) {
	h := w.Header()
	h.Set("Content-Type", o.contentType)
	if o.retryAfter {
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(o.status)
	_, _ = w.Write(o.body)
}
