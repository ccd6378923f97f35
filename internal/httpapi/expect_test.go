package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/httpserve"
	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/stretchr/testify/require"
)

// A client that sends Expect: 100-continue (curl does for a body over
// 1 MiB, and waits 1 s; others wait longer) and a webhook the api refuses
// from its headers alone (a wrong secret, a Content-Length over the limit)
// is answered at once, its body unread (found in review: the server's
// body wrapper hid the 100-continue from net/http, which then waited for
// the body the client held back until its continue, for the whole read
// timeout, before it answered).
func TestListen_RefusesAWebhookAwaitingContinueAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *httpapi.Config) { c.WebhookSecret = hookSecret; c.MaxWebhookBody = 1 << 20 })
	srv, err := httpserve.Listen("127.0.0.1:0", b.h, httpserve.Timeouts{Read: time.Minute, Write: time.Minute})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, 2*time.Second) }()
	t.Cleanup(func() { cancel(); <-served })

	for _, c := range []struct {
		name, secret string
		length, code int
	}{
		{"a wrong secret", "wrong", 1000, http.StatusUnauthorized},
		{"a body over the limit", hookSecret, 8 << 20, http.StatusRequestEntityTooLarge},
	} {
		conn, err := net.Dial("tcp", srv.Addr())
		require.NoError(t, err)
		_, err = fmt.Fprintf(conn, "POST /webhooks/whatsapp HTTP/1.1\r\nHost: mmlite\r\nContent-Type: application/json\r\n"+
			"Expect: 100-continue\r\nContent-Length: %d\r\n%s: %s\r\n\r\n", c.length, webhook.SecretHeader, c.secret)
		require.NoError(t, err)
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err, "%s: answered without its body, within seconds", c.name)
		require.Equal(t, c.code, resp.StatusCode, c.name)
		_ = resp.Body.Close()
		_ = conn.Close()
	}
}
