package mmapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mmlite/mmlite/internal/safeurl"
)

// Provider says how a sender authenticates and where its endpoint lives.
type Provider string

// The two providers of the endpoint.
const (
	// Provider360 sends to {base}/marketing_messages with header D360-API-KEY.
	Provider360 Provider = "360dialog"
	// ProviderMeta sends to {base}/{phone_number_id}/marketing_messages with
	// Authorization: Bearer; base is e.g. https://graph.facebook.com/v23.0.
	ProviderMeta Provider = "meta"
)

// Endpoint is where and as whom one sender sends.
type Endpoint struct {
	Provider      Provider
	BaseURL       string
	Key           string // the raw 360dialog key or the Meta access token
	PhoneNumberID string // required for ProviderMeta
}

// URL returns the endpoint's marketing_messages URL.
func (e Endpoint) URL() string {
	base := strings.TrimRight(e.BaseURL, "/")
	if e.Provider == ProviderMeta {
		return base + "/" + e.PhoneNumberID + "/marketing_messages"
	}
	return base + "/marketing_messages"
}

// LogValue keeps the key, and any credentials in the base URL, out of logs.
func (e Endpoint) LogValue() slog.Value {
	return slog.GroupValue(slog.String("provider", string(e.Provider)), slog.String("url", safeurl.Redact(e.URL())))
}

// String keeps the key, and any credentials in the base URL, out of any
// formatted output.
func (e Endpoint) String() string { return string(e.Provider) + " " + safeurl.Redact(e.URL()) }

// Response is the success answer. A 200 means accepted, not delivered.
type Response struct {
	MessagingProduct string        `json:"messaging_product"`
	Contacts         []Contact     `json:"contacts"`
	Messages         []SentMessage `json:"messages"`
}

// Contact echoes the recipient and its WhatsApp id.
type Contact struct {
	Input string `json:"input"`
	WaID  string `json:"wa_id"`
}

// SentMessage is the accepted message's id (the wamid) and optional status.
type SentMessage struct {
	ID            string `json:"id"`
	MessageStatus string `json:"message_status,omitempty"`
}

// WAMID returns the first message id, or "".
func (r *Response) WAMID() string {
	if len(r.Messages) == 0 {
		return ""
	}
	return r.Messages[0].ID
}

// MessageStatus returns accepted, held_for_quality_assessment, paused or "".
func (r *Response) MessageStatus() string {
	if len(r.Messages) == 0 {
		return ""
	}
	return r.Messages[0].MessageStatus
}

// Client sends messages. The zero value is not usable; use NewClient.
type Client struct {
	http          *http.Client
	maxBody       int64
	maxRetryAfter time.Duration
	userAgent     string
}

// Defaults for NewClient.
const (
	DefaultMaxBody       = 1 << 20
	DefaultMaxRetryAfter = 5 * time.Minute
)

// NewClient returns a client sending with hc, which carries the timeout.
// Redirects are never followed (hc itself is left as it is): a 307 or 308
// would POST the message again, with its D360-API-KEY (a header Go keeps
// on a redirect to another host), wherever the answer's Location says. A
// redirect is an answer of its own (see classify).
func NewClient(hc *http.Client) *Client {
	own := *hc
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{http: &own, maxBody: DefaultMaxBody, maxRetryAfter: DefaultMaxRetryAfter, userAgent: "mmlite"}
}

// Send posts one message. On success it returns the parsed answer; on any
// failure it returns an *Error whose Class says what the failure means.
// A failure after the request was written (timeout, reset) is ClassAmbiguous:
// the API may have accepted the message.
func (c *Client) Send(ctx context.Context, ep Endpoint, m *Message) (*Response, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("mmapi: encode message: %w", err)
	}
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wrote.Store(true)
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, ep.URL(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("mmapi: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if ep.Provider == ProviderMeta {
		req.Header.Set("Authorization", "Bearer "+ep.Key)
	} else {
		req.Header.Set("D360-API-KEY", ep.Key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, transportError(err, wrote.Load())
	}
	defer drainClose(resp.Body)
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody))
	if err != nil {
		// The server answered a status but the body broke off.
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return nil, brokenAnswer(resp.StatusCode, err)
		}
		b = nil
	}
	return c.ParseAnswer(resp.StatusCode, resp.Header, b)
}

// ParseAnswer turns an HTTP answer into a Response or a classified *Error.
func (c *Client) ParseAnswer(status int, h http.Header, body []byte) (*Response, error) {
	if status >= 200 && status < 300 {
		var r Response
		if decode(body, &r) == nil && r.WAMID() != "" {
			return &r, nil
		}
	}
	e := parseError(status, body)
	e.RetryAfter = ParseRetryAfter(h.Get("Retry-After"), time.Now(), c.maxRetryAfter)
	e.Class = classify(e)
	return nil, e
}

// drainClose reads a little of what is left so the connection can be reused,
// then closes the body.
func drainClose(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	_ = rc.Close()
}
