package e2e_test

import (
	"testing"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/stretchr/testify/require"
)

// The fake API posts status webhooks to the api, as 360dialog would.
func TestDeliveryAndReadArriveByWebhook(t *testing.T) {
	t.Parallel()
	read := 0.5
	f := newFleet(t, fakeapi.Config{WebhookSecret: hookSecret, WebhookDelay: fakeapi.Duration(20 * time.Millisecond), ReadShare: &read, Seed: 5})
	require.NoError(t, f.Fake.SetConfig(fakeapi.Config{Keys: []string{apiKey}, WebhookURL: f.api.URL + "/webhooks/whatsapp",
		WebhookSecret: hookSecret, WebhookDelay: fakeapi.Duration(20 * time.Millisecond), ReadShare: &read, Seed: 5}))
	f.Fake.Start(f.Ctx)
	t.Cleanup(f.Fake.Close)
	f.startWorker(t, f.workerConfig(500))
	tos := f.submit(t, "c1", 100)
	f.waitState(t, "c1", campaign.StateCompleted, 30*time.Second)
	require.Eventually(t, func() bool {
		st := f.Status(t, "c1")
		return st.Counts.Delivered == int64(len(tos)) && st.Counts.Read > 20 && st.Counts.Read < 80
	}, 30*time.Second, 50*time.Millisecond, "delivered and read counts arrive")
	require.Zero(t, f.Fake.Stats().WebhookErrors)
}
