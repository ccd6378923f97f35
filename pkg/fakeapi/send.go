package fakeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

var errClosed = errors.New("fakeapi: server closed")

// handleSend answers a POST to a send endpoint. The body is read first (so
// every attempt is counted per recipient), then the checks run in the
// documented order: auth, rate limit, body, templates, failing recipients,
// error rules. The outcome is recorded before the added latency, like a
// real API that accepted a message even if the client then times out.
func (s *Server) handleSend(w http.ResponseWriter, r *http.Request, fl flavor) {
	at := time.Now()
	st := s.settings.Load()
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	var obj map[string]json.RawMessage
	if readErr == nil && len(body) <= maxBodyBytes && json.Unmarshal(body, &obj) != nil {
		obj = nil
	}
	var to string
	if raw, ok := obj["to"]; ok && jsonKind(raw) == '"' {
		_ = json.Unmarshal(raw, &to)
	}

	key, authed := authenticate(r, fl, st)
	var out outcome
	switch {
	case !authed:
		out = s.authFailure(fl)
	case !s.allow(key):
		out = s.rateLimited(fl)
	default:
		out = s.decide(r, fl, st, body, readErr, obj)
	}
	s.rec.add(answer{
		at: at, key: key, to: to, body: body, record: authed && obj != nil,
		status: out.status, code: out.code, statKey: out.statKey, wamid: out.wamid,
	})
	if out.status == http.StatusOK {
		s.schedule(st, at, to, out.wamid)
	}
	if out.action != ActionHang {
		if err := s.sleep(r.Context(), s.latency(st)); err != nil && !errors.Is(err, errClosed) {
			return // the client is gone
		}
	}
	s.respond(w, r, out)
}

// authenticate returns the key or token of r and whether it is accepted.
func authenticate(r *http.Request, fl flavor, st *settings) (string, bool) {
	var key string
	if fl == flavor360 {
		key = r.Header.Get("D360-API-KEY")
	} else {
		scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			key = strings.TrimSpace(token)
		}
	}
	if key == "" {
		return "", false
	}
	return key, len(st.keys) == 0 || st.keys[key]
}

// decide runs the body checks, the template and recipient checks and the
// error rules, and returns the answer.
func (s *Server) decide(r *http.Request, fl flavor, st *settings, body []byte, readErr error, obj map[string]json.RawMessage) outcome {
	if e := checkContentType(r.Header.Get("Content-Type")); e != nil {
		return s.errorOutcome(fl, *e)
	}
	switch {
	case readErr != nil:
		return s.errorOutcome(fl, *badParam("Request body could not be read: %v", readErr))
	case len(body) > maxBodyBytes:
		e := badParam("Request body is larger than %d bytes", maxBodyBytes)
		e.status = http.StatusRequestEntityTooLarge
		return s.errorOutcome(fl, *e)
	case obj == nil:
		return s.errorOutcome(fl, *badParam("Request body must be a JSON object"))
	}
	f, e := validateSend(fl, obj)
	if e != nil {
		return s.errorOutcome(fl, *e)
	}
	if len(st.templates) > 0 && !st.templates[f.name] {
		e := metaError(132001)
		e.details = fmt.Sprintf("template name (%s) does not exist in %s", clip(f.name), clip(f.lang))
		return s.errorOutcome(fl, e)
	}
	if code, ok := st.cfg.FailRecipients[f.to]; ok {
		return s.errorOutcome(fl, metaError(code))
	}
	if rule, ok := s.pickRule(st.cfg.Errors); ok {
		return s.ruleOutcome(fl, rule)
	}
	return s.success(f.to)
}

// pickRule draws once and returns the first rule whose cumulative share
// covers the draw.
func (s *Server) pickRule(rules []ErrorRule) (ErrorRule, bool) {
	if len(rules) == 0 {
		return ErrorRule{}, false
	}
	x, acc := s.float(), 0.0
	for _, r := range rules {
		acc += r.Share
		if x < acc {
			return r, true
		}
	}
	return ErrorRule{}, false
}

type sendResponse struct {
	MessagingProduct string    `json:"messaging_product"`
	Contacts         []contact `json:"contacts"`
	Messages         []message `json:"messages"`
}

type contact struct {
	Input string `json:"input"`
	WaID  string `json:"wa_id"`
}

type message struct {
	ID            string `json:"id"`
	MessageStatus string `json:"message_status"`
}

// success is the HTTP 200 answer for a message to to.
func (s *Server) success(to string) outcome {
	wamid := s.ids.next(to)
	b, _ := json.Marshal(sendResponse{ // cannot fail: plain structs
		MessagingProduct: "whatsapp",
		Contacts:         []contact{{Input: to, WaID: to}},
		Messages:         []message{{ID: wamid, MessageStatus: "accepted"}},
	})
	return outcome{status: http.StatusOK, contentType: contentJSON, body: b, wamid: wamid}
}

// sleep waits d. It returns ctx's error when the client gives up and
// errClosed when the Server is closed meanwhile.
func (s *Server) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return errClosed
	}
}

// respond writes o, or carries out its action.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, o outcome) {
	switch o.action {
	case ActionReset:
		resetConn(w)
	case ActionHang:
		select {
		case <-r.Context().Done():
		case <-s.done:
			resetConn(w)
		}
	default:
		s.write(w, o)
	}
}

// resetConn closes the client connection without an answer. When the
// connection cannot be taken over (HTTP/2), the handler is aborted instead,
// which resets the stream.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // send RST, like a crashed proxy
	}
	_ = conn.Close()
}
