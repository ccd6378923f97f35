package worker_test

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/worker"
	"github.com/stretchr/testify/require"
)

// A job whose campaign expires while it waits, after attempts that failed,
// reports those attempts and the last error, not "0 attempts, no error".
func TestWorker_ExpiredAfterAttemptsReportsThem(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{Errors: []fakeapi.ErrorRule{{Share: 1, Code: 131000}}})
	expires := time.Now().Add(3 * time.Second)
	c := b.register(t, campaign.Campaign{ExpiresAt: &expires})
	to := testkit.Recipients(1)[0]
	jobs := sends(c.ID, []string{to})
	jobs[0].ExpiresAt = expires.Unix()
	b.enqueue(t, jobs...)
	cfg := b.config()
	cfg.RetryBase, cfg.RetryMax = time.Second, time.Second
	b.start(t, cfg)
	require.Eventually(t, func() bool { return b.Fake.Attempts(to) >= 1 }, 20*time.Second, 10*time.Millisecond)
	// Paused while its retry waits: the job sleeps until the expiry, then
	// runs once more and ends expired before any claim.
	_, err := b.Store.Campaigns.Pause(b.Ctx, c.ID, campaign.PauseOperator+": test")
	require.NoError(t, err)

	r := b.WaitResults(t, 1, 30*time.Second)[0]
	require.Equal(t, task.StatusExpired, r.Status)
	require.Equal(t, b.Fake.Attempts(to), r.Attempts, "the attempts made before the expiry")
	require.NotNil(t, r.Error, "the last error")
	require.Equal(t, 131000, r.Error.Code)
}

// Two workers in one process share a registry: the second is refused with
// an error, not a panic.
func TestWorker_DuplicateMetricsAreAnError(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	cfg := b.config()
	cfg.Registerer = metrics.NewRegistry()
	_, err := worker.New(cfg)
	require.NoError(t, err)
	require.NotPanics(t, func() { _, err = worker.New(cfg) })
	require.ErrorContains(t, err, "metrics")
}

// A worker that cannot start does not keep its metrics port.
func TestWorker_RunReleasesTheMetricsPortWhenStartFails(t *testing.T) {
	t.Parallel()
	addr := redistest.ClosedAddr(t)
	b := setup(t, fakeapi.Config{})
	cfg := b.config()
	cfg.MetricsAddr = addr
	cfg.Redis = unreachableRedis(t) // Start fails: it cannot publish the senders
	require.Error(t, worker.Run(b.Ctx, cfg))
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err, "the metrics listener was closed")
	require.NoError(t, ln.Close())
}

// unreachableRedis names a loopback port where nothing listens.
func unreachableRedis(t *testing.T) asynq.RedisConnOpt {
	t.Helper()
	return asynq.RedisClientOpt{Addr: redistest.ClosedAddr(t), DialTimeout: 200 * time.Millisecond}
}

// The job of a recipient whose attempt went stale (a worker died after it
// called the API) reports its outcome unknown when the campaign was
// cancelled since, not cancelled: the message may have gone out, and a
// follow-up of the cancelled recipients would send it again (found in
// review).
func TestWorker_CancelledCampaignReportsAnAttemptThatMayHaveSentUnknown(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{Keys: []string{testKey}})
	c := b.register(t, campaign.Campaign{})
	to := testkit.Recipients(1)[0]
	cl, err := b.Store.Ledger.Claim(b.Ctx, c.ID, to, store.ClaimOptions{StaleAfter: time.Minute})
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	old := time.Now().Add(-time.Hour).UnixMilli() // the dead worker's claim, stale
	require.NoError(t, b.R.Client.HSet(b.Ctx, b.R.Keys.Ledger(c.ID), to, "C|1|"+strconv.FormatInt(old, 10)+"|0").Err())
	_, err = b.Store.Campaigns.Cancel(b.Ctx, c.ID)
	require.NoError(t, err)
	b.enqueue(t, task.Send{Campaign: c.ID, To: to}) // the job, taken over
	b.start(t, b.config())

	r := b.WaitResults(t, 1, 30*time.Second)[0]
	require.Zero(t, b.Fake.Attempts(to))
	require.Equal(t, task.StatusUnknown, r.Status, "the dead worker's attempt may have sent the message")
}
