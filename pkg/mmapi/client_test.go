package mmapi_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/testctx"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/stretchr/testify/require"
)

func okHandler(t *testing.T, check func(r *http.Request, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		check(r, b)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixture(t, "send_response_ok.json"))
	}
}

func TestSend_360dialog(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(okHandler(t, func(r *http.Request, body []byte) {
		require.Equal(t, http.MethodPost, r.Method)
		require.Equal(t, "/marketing_messages", r.URL.Path)
		require.Equal(t, "k-360", r.Header.Get("D360-API-KEY"))
		require.Empty(t, r.Header.Get("Authorization"))
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		requireJSONEq(t, []byte(`{"messaging_product":"whatsapp","recipient_type":"individual","to":"441234567890","type":"template","template":{"name":"t","language":{"policy":"deterministic","code":"en"}}}`), body)
	}))
	defer srv.Close()
	c := mmapi.NewClient(srv.Client())
	ep := mmapi.Endpoint{Provider: mmapi.Provider360, BaseURL: srv.URL + "/", Key: "k-360"}
	r, err := c.Send(context.Background(), ep, mmapi.NewMessage("441234567890", mmapi.Template{Name: "t", Language: mmapi.Language{Code: "en"}}, nil))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(r.WAMID(), "wamid."))
	require.NotContains(t, ep.String(), "k-360")
}

func TestSend_Meta(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(okHandler(t, func(r *http.Request, _ []byte) {
		require.Equal(t, "/v23.0/106540352242922/marketing_messages", r.URL.Path)
		require.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
		require.Empty(t, r.Header.Get("D360-API-KEY"))
	}))
	defer srv.Close()
	c := mmapi.NewClient(srv.Client())
	ep := mmapi.Endpoint{Provider: mmapi.ProviderMeta, BaseURL: srv.URL + "/v23.0", Key: "tok", PhoneNumberID: "106540352242922"}
	_, err := c.Send(context.Background(), ep, mmapi.NewMessage("441234567890", mmapi.Template{Name: "t", Language: mmapi.Language{Code: "en"}}, nil))
	require.NoError(t, err)
}

func sendErr(t *testing.T, hc *http.Client, url string) *mmapi.Error {
	t.Helper()
	c := mmapi.NewClient(hc)
	_, err := c.Send(context.Background(), mmapi.Endpoint{BaseURL: url, Key: "k"},
		mmapi.NewMessage("441234567890", mmapi.Template{Name: "t", Language: mmapi.Language{Code: "en"}}, nil))
	var e *mmapi.Error
	require.ErrorAs(t, err, &e)
	return e
}

func TestSend_ResetAfterWriteIsAmbiguous(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		require.NoError(t, err)
		_ = conn.Close()
	}))
	defer srv.Close()
	e := sendErr(t, srv.Client(), srv.URL)
	require.Equal(t, mmapi.ClassAmbiguous, e.Class)
	require.Zero(t, e.HTTPStatus)
	require.Error(t, e.Err)
	requirePlainTitle(t, e, srv.URL, "the connection closed after the request was sent, without an answer: the message may have been sent")
}

// requirePlainTitle checks that a transport failure's title says what
// happened in words, without the provider's URL or the local address: it
// becomes the title of the recipient's result.
func requirePlainTitle(t *testing.T, e *mmapi.Error, url, want string) {
	t.Helper()
	require.Equal(t, want, e.Title)
	host := strings.TrimPrefix(url, "http://")
	for _, s := range []string{e.Title, e.Error()} {
		require.NotContains(t, s, host, "no provider address")
		require.NotContains(t, s, "127.0.0.1", "no local address")
		require.NotContains(t, s, "marketing_messages", "no URL")
	}
}

func TestSend_TimeoutAfterWriteIsAmbiguous(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var readOnce sync.Once
	read := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		readOnce.Do(func() { close(read) })
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	// The client times out once the request is written and the server has
	// read it, not after a fixed 100 ms that a loaded machine could spend
	// before the write (a timeout before the write is another case). The
	// hooks of a trace already in the context run after the client's own:
	// when this one runs, the client has seen the write.
	ctx := testctx.NewExpiring()
	var wroteOnce sync.Once
	wrote := make(chan struct{})
	traced := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wroteOnce.Do(func() { close(wrote) })
		}
	}})
	go func() {
		defer ctx.Expire()
		for _, ch := range []chan struct{}{wrote, read} {
			select {
			case <-ch:
			case <-time.After(30 * time.Second): // it never got there: the timeout comes before the write
				return
			}
		}
	}()
	_, err := mmapi.NewClient(srv.Client()).Send(traced, mmapi.Endpoint{BaseURL: srv.URL, Key: "k"},
		mmapi.NewMessage("441234567890", mmapi.Template{Name: "t", Language: mmapi.Language{Code: "en"}}, nil))
	var e *mmapi.Error
	require.ErrorAs(t, err, &e)
	require.ErrorIs(t, e.Err, context.DeadlineExceeded, "the client timed out")
	require.Equal(t, mmapi.ClassAmbiguous, e.Class)
	requirePlainTitle(t, e, srv.URL, "no answer within the HTTP timeout after the request was sent: the message may have been sent")
}

func TestSend_UnreachableIsTransient(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	e := sendErr(t, http.DefaultClient, "http://"+addr)
	require.Equal(t, mmapi.ClassTransient, e.Class)
	requirePlainTitle(t, e, "http://"+addr, "could not connect to the API (connection refused): nothing was sent")
}

func TestSend_CanceledBeforeWriteIsTransient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(okHandler(t, func(*http.Request, []byte) {}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := mmapi.NewClient(srv.Client()).Send(ctx, mmapi.Endpoint{BaseURL: srv.URL, Key: "k"},
		mmapi.NewMessage("441234567890", mmapi.Template{Name: "t", Language: mmapi.Language{Code: "en"}}, nil))
	var e *mmapi.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, mmapi.ClassTransient, e.Class)
	require.ErrorIs(t, err, context.Canceled)
}

func TestSend_ErrorAnswerWithRetryAfterAndHugeBody(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(strings.Repeat("x", 3<<20)))
	}))
	defer srv.Close()
	e := sendErr(t, srv.Client(), srv.URL)
	require.Equal(t, mmapi.ClassThroughput, e.Class)
	require.Equal(t, 3*time.Second, e.RetryAfter)
	require.LessOrEqual(t, len(e.Title), 203)
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	max := time.Minute
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"abc", 0}, {"-5", 0}, {"0", 0}, {"NaN", 0},
		{"5", 5 * time.Second}, {"1.5", 1500 * time.Millisecond}, {" 2 ", 2 * time.Second},
		{"3600", max}, {"1e300", max},
		{"Wed, 25 Nov 2026 10:00:30 GMT", 30 * time.Second},
		{"Wed, 25 Nov 2026 09:59:00 GMT", 0},
		{"Wed, 25 Nov 2026 12:00:00 GMT", max},
		{"Wednesday, 25-Nov-26 10:00:10 GMT", 10 * time.Second},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, mmapi.ParseRetryAfter(tc.in, now, max), tc.in)
	}
}

// A field of another type beside the code (a subcode or a trace id as the
// other kind, a string detail next to the error) leaves the code read: it
// threw the whole error object away, so that a 131056 failed at once, a
// 131000 on a 500 was never sent, a 130429 did not slow the sender (found
// in review). A success with an odd contact keeps its wamid.
func TestSend_FieldsOfAnotherTypeKeepTheCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   mmapi.Class
	}{
		{"subcode as a string", 400, `{"error":{"message":"(#131056) pair rate","type":"OAuthException","code":131056,"error_subcode":"2494055","fbtrace_id":"A"}}`, mmapi.ClassRecipientDelay},
		{"numeric fbtrace_id", 500, `{"error":{"message":"(#131000) Something went wrong","code":131000,"fbtrace_id":12345}}`, mmapi.ClassTransient},
		{"is_transient as a string", 400, `{"error":{"message":"(#130429) Rate limit hit","code":130429,"is_transient":"true"}}`, mmapi.ClassThroughput},
		{"a string detail beside the error", 400, `{"error":{"message":"(#131049) x","code":131049},"detail":"see error"}`, mmapi.ClassRecipientDelay},
		{"error_data as a string", 400, `{"error":{"message":"(#131049) x","code":131049,"error_data":"none"}}`, mmapi.ClassRecipientDelay},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			e := sendErr(t, srv.Client(), srv.URL)
			require.True(t, e.HasCode, "code lost: %v", e)
			require.Equal(t, tc.want, e.Class, e.Error())
		})
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"messaging_product":"whatsapp","contacts":[{"input":"441234567890","wa_id":441234567890}],"messages":[{"id":"wamid.HBgL"}]}`)
	}))
	defer srv.Close()
	resp, err := mmapi.NewClient(srv.Client()).Send(context.Background(), mmapi.Endpoint{BaseURL: srv.URL, Key: "k"},
		mmapi.NewMessage("441234567890", mmapi.Template{Name: "t", Language: mmapi.Language{Code: "en"}}, nil))
	require.NoError(t, err)
	require.Equal(t, "wamid.HBgL", resp.WAMID())
}
