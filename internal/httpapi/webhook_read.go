package httpapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/mmlite/mmlite/internal/webhook"
)

// readWebhook reads a body of up to SmallWebhook bytes at once, and a
// larger one (up to MaxWebhookBody) once it holds one of the LargeWebhooks
// slots, at a pace (see pacedReader); release frees the slot (after the body
// is parsed and recorded: its events cost memory too).
func (s *Server) readWebhook(w http.ResponseWriter, r *http.Request) (body []byte, release func(), err error) {
	if r.ContentLength > s.cfg.MaxWebhookBody { // no need to wait for a slot to refuse it
		return nil, nil, &http.MaxBytesError{Limit: s.cfg.MaxWebhookBody}
	}
	rd := http.MaxBytesReader(w, r.Body, s.cfg.MaxWebhookBody)
	small := min(SmallWebhook, s.cfg.MaxWebhookBody)
	release = func() {}
	if r.ContentLength <= small { // unknown (-1) or small: read what comes
		if body, err = io.ReadAll(io.LimitReader(rd, small+1)); err != nil || int64(len(body)) <= small {
			return body, release, err
		}
	}
	if release, err = wait(r.Context(), s.hooks); err != nil {
		return nil, nil, err
	}
	paced := &pacedReader{r: rd, rc: http.NewResponseController(w), start: time.Now(), grace: s.cfg.LargeWebhookRead}
	if err := paced.extend(); err != nil {
		release()
		return nil, nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, min(max(r.ContentLength, small), s.cfg.MaxWebhookBody)+bytes.MinRead))
	buf.Write(body)
	if _, err := buf.ReadFrom(paced); err != nil {
		release()
		return nil, nil, err
	}
	return buf.Bytes(), release, nil
}

// MinLargeWebhookRate is the pace a large webhook must keep, after
// LargeWebhookRead of grace, once it holds a slot: a client that stalls
// (the server's own read timeout is long, for uploads) gives its slot back
// in seconds, one that sends steadily, however slowed by a busy machine,
// is not cut.
const MinLargeWebhookRate = 16 << 10 // bytes a second

// pacedReader reads a large webhook's body, moving the connection's read
// deadline on as the bytes come: the n-th byte is due LargeWebhookRead
// plus n at MinLargeWebhookRate after the slot was taken.
type pacedReader struct {
	r     io.Reader
	rc    *http.ResponseController
	start time.Time
	grace time.Duration
	n     int64
}

func (p *pacedReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if n > 0 && err == nil {
		err = p.extend()
	}
	return n, err
}

// extend sets the read deadline for what came so far; a server that
// cannot set one (HTTP/2 through some proxies) reads without.
func (p *pacedReader) extend() error {
	due := p.start.Add(p.grace + time.Duration(float64(p.n)/MinLargeWebhookRate*float64(time.Second)))
	if err := p.rc.SetReadDeadline(due); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// authenticateHeaders returns why a webhook is refused before its body is
// read, or "". With both providers configured, either credential is
// enough: 360dialog's secret header, or Meta's signature (checked once the
// body is read).
func (s *Server) authenticateHeaders(r *http.Request) string {
	switch {
	case s.cfg.refusesWebhooks():
		return "not_configured"
	case s.secretOK(r), s.cfg.WebhookSecret == "" && s.cfg.AppSecret == "":
		return ""
	case s.cfg.AppSecret != "" && r.Header.Get(webhook.SignatureHeader) != "":
		return ""
	case s.cfg.AppSecret == "" || r.Header.Get(webhook.SecretHeader) != "" && s.cfg.WebhookSecret != "":
		return "secret"
	}
	return "signature"
}

// authenticate returns why a webhook is refused once its body is read, or
// "": a webhook that passed authenticateHeaders without a valid secret
// carries a signature.
func (s *Server) authenticate(r *http.Request, body []byte) string {
	if s.cfg.AppSecret != "" && !s.secretOK(r) && !webhook.SignatureOK(s.cfg.AppSecret, body, r.Header.Get(webhook.SignatureHeader)) {
		return "signature"
	}
	return ""
}

// secretOK says whether the webhook carries 360dialog's valid secret.
func (s *Server) secretOK(r *http.Request) bool {
	return s.cfg.WebhookSecret != "" && webhook.SecretOK(s.cfg.WebhookSecret, r.Header.Get(webhook.SecretHeader))
}
