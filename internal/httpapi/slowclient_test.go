package httpapi_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// serveReal serves an api as mmlite api does (its own listener and
// timeouts), with ReadTimeout short.
func serveReal(t *testing.T) string {
	t.Helper()
	r := redistest.New(t)
	reg := metrics.NewRegistry()
	p, err := producer.New(producer.Config{Client: r.Client, Queue: r.Queue, ResultsQueue: r.Results, Registerer: reg})
	require.NoError(t, err)
	s, err := httpapi.New(httpapi.Config{Producer: p, Token: token, Registerer: reg, ResultsQueue: r.Results,
		AppSecret: "app-secret", ReadTimeout: 300 * time.Millisecond})
	require.NoError(t, err)
	srv, err := s.Listen("127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, 2*time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
	return srv.Addr()
}

// stall sends a request's headers, declaring a body that never comes, and
// says how the server ended it: its status, or "closed".
func stall(t *testing.T, addr, head string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "%sHost: mmlite\r\nContent-Length: 100\r\n\r\n{", head)
	require.NoError(t, err)
	// A bound for the test only: the server must end the request by itself.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		var ne net.Error
		require.False(t, errors.As(err, &ne) && ne.Timeout(), "the server held a stalled request: %v", err)
		return "closed"
	}
	resp.Body.Close()
	return resp.Status
}

// TestServe_StalledUnauthenticatedRequestsAreCut: a client that has proved
// nothing (no token, a wrong one, a webhook that only carries a signature
// header, as any may when the api verifies Meta's) and stalls its body was
// held for the api's read timeout of 15 minutes, the one uploads need: a
// few thousand such connections held the api's memory and file
// descriptors. They are cut at ReadTimeout; an upload with the token still
// takes its time.
func TestServe_StalledUnauthenticatedRequestsAreCut(t *testing.T) {
	t.Parallel()
	addr := serveReal(t)
	for _, head := range []string{
		"POST /v1/campaigns HTTP/1.1\r\n",
		"POST /v1/campaigns HTTP/1.1\r\nAuthorization: Bearer wrong\r\n",
		"POST /webhooks/whatsapp HTTP/1.1\r\n" + webhook.SignatureHeader + ": sha256=00\r\n",
		"POST /ui/login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n",
		"POST /nowhere HTTP/1.1\r\n",
	} {
		got := stall(t, addr, head)
		require.NotEqual(t, "200 OK", got, "%q", head)
		t.Logf("%q: %s", strings.SplitN(head, "\r\n", 2)[0], got)
	}

	// With the token, a body that takes longer than ReadTimeout to come is
	// read whole.
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	body := `{"campaign": ` + campaignJSON + `}`
	_, err = fmt.Fprintf(conn, "POST /v1/campaigns HTTP/1.1\r\nHost: mmlite\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		token, len(body), body[:10])
	require.NoError(t, err)
	time.Sleep(time.Second) // past ReadTimeout
	_, err = conn.Write([]byte(body[10:]))
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
}
