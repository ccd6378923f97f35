package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/stretchr/testify/require"
)

// A campaign paused until its expires_at completes then: its parked jobs
// wake at the expiry and are reported expired, and nothing is left to
// resume (found in review: it stayed paused for good, and upstream never
// got its completed event).
func TestPausedUntilItsExpiry_Completes(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	f.startWorker(t, f.workerConfig(100))
	exp := time.Now().Add(3 * time.Second).Truncate(time.Second).Add(time.Second)
	code, body := f.post(t, "/v1/campaigns", "application/json", fmt.Sprintf(
		`{"campaign": {"id": "pe", "template": {"name": "spring_sale", "language": {"code": "pt_BR"}},
		  "send_at": %q, "expires_at": %q},
		  "recipients": [{"to": "447700900001"}, {"to": "447700900002"}, {"to": "447700900003"}]}`,
		exp.Add(-time.Second).Format(time.RFC3339), exp.Format(time.RFC3339)))
	require.Equal(t, 202, code, body)
	code, _ = f.call(t, "POST", "/v1/campaigns/pe/pause")
	require.Equal(t, 200, code)
	st := f.waitState(t, "pe", campaign.StateCompleted, 30*time.Second)
	require.EqualValues(t, 3, st.Counts.Expired)
	require.Zero(t, f.accepted(), "nothing of a paused campaign is sent")
	require.Eventually(t, func() bool {
		_, err := f.Inspector.GetTaskInfo(f.R.Results, "campaign:pe:completed")
		return err == nil
	}, 30*time.Second, 20*time.Millisecond, "the campaign's end is announced")
}
