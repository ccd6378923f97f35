package outbound_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/stretchr/testify/require"
)

// TestRelay_AnswerEchoingANumberIsMasked: a destination that refuses a
// webhook often quotes the body back (a validation error naming the bad
// field); its answer is kept in the error, which the worker logs and the
// archive keeps, and the customers' numbers in it must be masked there as
// everywhere in the logs.
func TestRelay_AnswerEchoingANumberIsMasked(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(append([]byte("unexpected body: "), b[90:]...)) // from "messages" on
	}))
	t.Cleanup(echo.Close)
	n := name(t)
	ds, err := destinations(t, "destinations:\n  - name: "+n+"\n    url: "+echo.URL+"\n    secret_env: S\n", map[string]string{"S": "s"})
	require.NoError(t, err)
	dropQueues(t, r, ds[0].Queue())
	ev, err := webhook.Parse([]byte(inboundBody))
	require.NoError(t, err)
	require.NoError(t, outbound.NewRelay(r.Client, ds).Store(context.Background(), []byte(inboundBody), http.Header{}, ev.Kinds))
	var logs redistest.SyncBuffer
	serve(t, r, outbound.Config{Destinations: ds, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	in := asynq.NewInspectorFromRedisClient(r.Client)
	require.Eventually(t, func() bool {
		arch, _ := in.ListArchivedTasks(ds[0].Queue())
		return len(arch) == 1
	}, 10*time.Second, 20*time.Millisecond)
	arch, err := in.ListArchivedTasks(ds[0].Queue())
	require.NoError(t, err)
	require.Contains(t, arch[0].LastErr, "HTTP 400")
	require.Contains(t, arch[0].LastErr, "4412*****890", "the answer is kept, masked")
	require.NotContains(t, arch[0].LastErr, "441234567890")
	require.Contains(t, logs.String(), "outbound delivery refused; archived")
	require.NotContains(t, logs.String(), "441234567890", "a number in the logs")
}
