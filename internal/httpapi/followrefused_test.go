package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// A follow-up refused for what the source's copy holds (a callback_url
// this api does not allow: callbacks off) leaves its id free. It claimed
// the id first: for an hour, "campaign fu not found" for a GET, yet every
// other follow-up under that id was a 409, "campaign fu exists: it is a
// follow-up of spring-sale-2026".
func TestFollowUp_RefusedLeavesTheIDFree(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	// The source, registered by a process with callbacks on.
	other, err := producer.New(producer.Config{Client: b.r.Client, Queue: b.r.Queue, ResultsQueue: b.r.Results,
		CallbackQueue: b.r.Queue + "-callbacks", CallbackHosts: safeurl.Hosts{"crm.example.com"}})
	require.NoError(t, err)
	c, err := campaign.Decode([]byte(`{"id": "spring-sale-2026", "template": {"name": "spring_sale", "language": {"code": "pt_BR"}},
		"callback_url": "https://crm.example.com/cb"}`))
	require.NoError(t, err)
	_, err = other.Register(ctx, c)
	require.NoError(t, err)
	_, err = other.Enqueue(ctx, c, producer.NewJSONLSource(strings.NewReader(`{"to": "447700900001"}`)), producer.Options{})
	require.NoError(t, err)
	_, err = other.Seal(ctx, c.ID)
	require.NoError(t, err)
	_, err = b.p.Store().Ledger.Settle(ctx, c.ID, "447700900001",
		store.Outcome{Status: task.StatusFailed, Error: &task.Error{Code: 131026}}, store.FailurePolicy{}, nil)
	require.NoError(t, err)

	a := b.do(t, "POST", "/v1/campaigns/spring-sale-2026/follow-up", "application/json", `{"id": "fu", "statuses": ["failed"]}`)
	require.Equal(t, 400, a.code, a.raw)
	require.Contains(t, a.body["error"], "callback_url: callbacks are off")
	n, err := b.r.Client.Exists(ctx, b.r.Keys.Campaign("fu")).Result()
	require.NoError(t, err)
	require.Zero(t, n, "nothing is written under the id")

	a = b.do(t, "POST", "/v1/campaigns", "", `{"campaign": {"id": "src2", "template": {"name": "spring_sale", "language": {"code": "pt_BR"}}}, "recipients": [{"to": "447700900002"}]}`)
	require.Equal(t, 202, a.code, a.raw)
	_, err = b.p.Store().Ledger.Settle(ctx, "src2", "447700900002",
		store.Outcome{Status: task.StatusFailed, Error: &task.Error{Code: 131026}}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	a = b.do(t, "POST", "/v1/campaigns/src2/follow-up", "application/json", `{"id": "fu", "statuses": ["failed"]}`)
	require.Equal(t, 202, a.code, "another follow-up may take the id: %s", a.raw)
}
