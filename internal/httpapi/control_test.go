package httpapi_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/producer"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// A cancel whose wait for the sends in flight runs out has taken effect:
// 202, the cancelled status, how many sends were still in flight and what
// becomes of them; no server error logged.
func TestCancel_SendInFlightAfterTheWaitIs202(t *testing.T) {
	t.Parallel()
	var logs redistest.SyncBuffer
	b := setupP(t, func(c *producer.Config) { c.CancelWait = 100 * time.Millisecond }, func(c *httpapi.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [`+rows(1, 2)+`]}`).code)
	id := "spring-sale-2026:447700900001"
	require.NoError(t, b.r.Client.LPush(ctx, b.r.Keys.AsynqActive(), id).Err())
	require.NoError(t, b.r.Client.ZAdd(ctx, b.r.Keys.AsynqLease(), redis.Z{Score: float64(time.Now().Add(time.Minute).Unix()), Member: id}).Err())

	a := b.do(t, "POST", "/v1/campaigns/spring-sale-2026/cancel", "", "")
	require.Equal(t, 202, a.code, a.raw)
	require.Equal(t, "cancelled", a.body["state"], a.raw)
	require.Equal(t, true, a.body["sealed"], a.raw)
	require.EqualValues(t, 1, a.body["in_flight"], a.raw)
	require.Equal(t, "campaign spring-sale-2026 is cancelled; 1 send of it was still in flight after 100ms: it ends with its own outcome, "+
		"and nothing of the campaign is sent after it", a.body["detail"], a.raw)
	for _, l := range logLines(t, logs.String()) {
		require.NotEqual(t, "ERROR", l["level"], "%v", l)
	}
	st, err := b.p.Store().Campaigns.Status(ctx, "spring-sale-2026")
	require.NoError(t, err)
	require.Equal(t, campaign.StateCancelled, st.State)

	// Once nothing is in flight, 200 and the status alone.
	require.NoError(t, b.r.Client.LRem(ctx, b.r.Keys.AsynqActive(), 0, id).Err())
	a = b.do(t, "POST", "/v1/campaigns/spring-sale-2026/cancel", "", "")
	require.Equal(t, 200, a.code, a.raw)
	require.NotContains(t, a.body, "in_flight")
}

// A control route reads no body, and dropped one without a word: a pause
// sent with {"reason": "budget"} paused the campaign, 200, and the reason
// was nowhere. Every other body the api takes is read strictly (an unknown
// field is a 400): so is this one. An empty body, or an empty JSON object,
// is no body. Nothing is done when it is refused.
func TestControl_BodyIsRefused(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [`+rows(1, 2)+`], "open": true}`).code)
	for _, path := range []string{"/v1/campaigns/spring-sale-2026/pause", "/v1/campaigns/spring-sale-2026/cancel", "/v1/senders/default/pause"} {
		a := b.do(t, "POST", path, "application/json", `{"reason": "budget"}`)
		require.Equal(t, 400, a.code, "%s: %s", path, a.raw)
		require.Contains(t, a.body["error"], "takes no body", a.raw)
	}
	a := b.do(t, "POST", "/v1/campaigns/spring-sale-2026/pause", "application/json", `{"reason": "budget"}`)
	require.Equal(t, `POST /v1/campaigns/{id}/pause takes no body, got "{\"reason\": \"budget\"}": send the request without one`, a.body["error"], "as docs/http-api.md says")
	st := b.do(t, "GET", "/v1/campaigns/spring-sale-2026", "", "")
	require.Equal(t, "running", st.body["state"], st.raw)
	s := b.do(t, "GET", "/v1/senders/default", "", "")
	require.Equal(t, "sending", s.body["state"], s.raw)

	// null too: what a client that marshals its body whatever it is sends
	// for none (Go's json.Marshal(nil), JSON.stringify(null)).
	for _, body := range []string{"", "{}", " { }\n", "null", "null\n"} {
		a := b.do(t, "POST", "/v1/campaigns/spring-sale-2026/pause", "application/json", body)
		require.Equal(t, 200, a.code, "%q: %s", body, a.raw)
		require.Equal(t, 200, b.do(t, "POST", "/v1/campaigns/spring-sale-2026/resume", "", body).code, "%q", body)
	}
}

// A control reads at most 1 KiB of a body: a longer one was quoted with the
// length of what was read ("(1025 bytes)" for a body of 5000), and one whose
// first KiB was blank was taken for none, the rest dropped without a word.
func TestControl_LongBodyIsRefusedAsLong(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [`+rows(1, 2)+`], "open": true}`).code)
	long := `{"reason": "` + strings.Repeat("b", 5000) + `"}`
	a := b.do(t, "POST", "/v1/campaigns/spring-sale-2026/pause", "application/json", long)
	require.Equal(t, 400, a.code, a.raw)
	require.NotContains(t, a.body["error"], "1025 bytes", "the length read is not the body's")
	require.Contains(t, a.body["error"], "more than 1024 bytes", a.raw)

	padded := strings.Repeat(" ", 2000) + `{"reason": "budget"}`
	a = b.do(t, "POST", "/v1/campaigns/spring-sale-2026/pause", "application/json", padded)
	require.Equal(t, 400, a.code, a.raw)
	st := b.do(t, "GET", "/v1/campaigns/spring-sale-2026", "", "")
	require.Equal(t, "running", st.body["state"], st.raw)
}
