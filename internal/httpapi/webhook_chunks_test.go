package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// A webhook of more statuses than one step records (a provider's batch is
// at most 1,000) is recorded a chunk at a time: a step that fails answers
// 500 with the chunks before it kept, the provider's next delivery records
// the rest, and each status is emitted once; its relay tasks are written
// once, with the first chunk.
func TestWebhooks_ManyStatusesRecordedInChunks(t *testing.T) {
	t.Parallel()
	b, pending := relaySetup(t)
	ctx := context.Background()
	const n = 2000
	ledger := b.p.Store().Ledger
	require.NoError(t, b.r.Client.HIncrBy(ctx, b.r.Keys.Campaign("spring-sale-2026"), "enqueued", n).Err())
	var sb strings.Builder
	sb.WriteString(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":` +
		`{"metadata":{"phone_number_id":"106540352242922"},"statuses":[`)
	for i := range n {
		_, err := ledger.Settle(ctx, "spring-sale-2026", fmt.Sprintf("4477009%05d", i),
			store.Outcome{Status: task.StatusSent, WAMID: fmt.Sprintf("m%d", i)}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":"m%d","status":"sent"}`, i)
	}
	sb.WriteString(`]}}]}]}`)
	body := sb.String()
	require.Less(t, len(body), httpapi.SmallWebhook, "relay tasks written with the first status")

	// A record of the second chunk that Redis cannot read (a string where
	// a hash is) fails its step.
	wk := b.r.Keys.WAMID("m1500")
	require.NoError(t, b.r.Client.Rename(ctx, wk, wk+"-kept").Err())
	require.NoError(t, b.r.Client.Set(ctx, wk, "x", 0).Err())
	a := b.hook(t, body)
	require.Equal(t, http.StatusInternalServerError, a.code, a.raw)
	requireMetric(t, b, `mmlite_webhook_statuses_total{result="counted"} 1000`)
	n1, err := b.r.Client.LLen(ctx, pending).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n1, "stored for the relay with the first chunk")

	require.NoError(t, b.r.Client.Rename(ctx, wk+"-kept", wk).Err())
	a = b.hook(t, body)
	require.Equal(t, http.StatusOK, a.code, a.raw)
	require.Equal(t, fmt.Sprintf(`{"statuses":%d,"clicks":0,"account_updates":0}`, n), strings.TrimSpace(a.raw))
	require.Len(t, b.statusTasks(t), n, "one task per status")
	n2, err := b.r.Client.LLen(ctx, pending).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n2, "stored for the relay once")
}
