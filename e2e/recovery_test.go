package e2e_test

import (
	"bufio"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// recoveryBound is how long after a fault the last result may come: a job
// held by a dead worker waits for its 30 s lease, then for the worker's
// recoverer (a few seconds); one held by a live worker across an outage is
// finished as soon as Redis answers.
const recoveryBound = 45 * time.Second

// Redis (AOF) stopped with SHUTDOWN 4 s into a 1,000-recipient campaign sent
// by two workers and started again 5 s later on the same port: every
// recipient gets exactly one result, none is POSTed twice, and the last
// result comes soon after Redis answers again.
func TestRedisRestart_MidCampaign_RecoversWithinBound(t *testing.T) {
	t.Parallel()
	srv := redistest.StartPersistent(t)
	f := newFleetOn(t, redistest.NewURL(t, srv.URL), fakeapi.Config{Latency: fakeapi.Duration(200 * time.Millisecond)})
	cfg := f.workerConfig(100)
	f.publish(t, cfg.Senders...)
	f.startWorker(t, cfg)
	f.startWorker(t, cfg)
	tos := f.submit(t, "c1", 1000)

	time.Sleep(4 * time.Second)
	before := f.accepted()
	srv.Shutdown(t)
	t.Logf("Redis stopped after %d sends", before)
	time.Sleep(5 * time.Second)
	srv.Restart(t)
	up := time.Now()

	took := waitAllResults(t, f, len(tos), up)
	t.Logf("last result %.1f s after Redis answered again (the %d sends left take %.1f s at 100/s)",
		took.Seconds(), int64(len(tos))-before, float64(int64(len(tos))-before)/100)
	unknown := checkOneResultEach(t, f, "c1", tos)
	t.Logf("%d of %d sent, %d unknown", f.accepted(), len(tos), unknown)
	require.LessOrEqual(t, took, recoveryBound, "the last result came %s after Redis answered again", took)
	// A send made while Redis went down was recorded once it came back:
	// reported sent, not unknown.
	for _, r := range f.Results(t) {
		if f.Fake.Sends(r.To) == 1 {
			require.Equal(t, task.StatusSent, r.Status, "%s was accepted by the API", r.To)
		}
	}
}

// kill -9 of one of two worker processes in the middle of a campaign: the
// other one takes over the jobs the dead one held once their lease ends,
// sends none twice, and every recipient gets exactly one result.
func TestWorkerKill9_MidCampaign_RecoversWithinBound(t *testing.T) {
	t.Parallel()
	bin := buildMMLite(t)
	srv := redistest.StartPersistent(t)
	f := newFleetOn(t, redistest.NewURL(t, srv.URL), fakeapi.Config{Latency: fakeapi.Duration(300 * time.Millisecond)})
	f.publish(t, f.workerConfig(100).Senders...) // as the workers will: the producer paces by it
	var out1, out2 redistest.SyncBuffer
	victim := f.workerProcess(t, bin, &out1)
	f.workerProcess(t, bin, &out2)
	tos := f.submit(t, "c1", 1000)

	// At 100/s, 300 sends come about 3 s in: both workers are busy, each
	// with sends in flight (300 ms each). The kill waits for the victim's
	// own: on a loaded machine the other worker may have sent them all so
	// far.
	require.Eventually(t, func() bool { return f.accepted() >= 300 }, 60*time.Second, 10*time.Millisecond,
		"the workers never sent:\n%s\n%s", &out1, &out2)
	require.Eventually(t, func() bool { return sendsInFlight(t, &out1) > 0 }, 60*time.Second, 5*time.Millisecond,
		"the victim never had a send in flight:\n%s", &out1)
	require.NoError(t, victim.Process.Kill())
	_ = victim.Wait()
	killed := time.Now()
	t.Logf("worker killed after %d sends", f.accepted())

	took := waitAllResults(t, f, len(tos), killed)
	t.Logf("last result %.1f s after the kill", took.Seconds())
	unknown := checkOneResultEach(t, f, "c1", tos)
	t.Logf("%d of %d sent, %d unknown (cut off by the kill)", f.accepted(), len(tos), unknown)
	require.Positive(t, unknown, "sends were in flight in the killed worker:\n%s", &out1)
	require.LessOrEqual(t, took, recoveryBound, "the last result came %s after the kill:\n%s", took, &out2)
}

// waitAllResults waits until n results are in the results queue and returns
// how long after since the last one came. It waits well past
// recoveryBound, so that a slow recovery reports its real figure.
func waitAllResults(t *testing.T, f *fleet, n int, since time.Time) time.Duration {
	t.Helper()
	deadline := since.Add(recoveryBound + 2*time.Minute)
	for {
		if got := len(f.Results(t)); got >= n {
			return time.Since(since)
		} else if time.Now().After(deadline) {
			t.Fatalf("%d of %d results %s after the fault", got, n, time.Since(since).Round(time.Second))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkOneResultEach checks that every recipient has exactly one result, was
// POSTed at most once, and is reported sent exactly when the API accepted
// it; it returns how many are unknown.
func checkOneResultEach(t *testing.T, f *fleet, id string, tos []string) int {
	t.Helper()
	require.Zero(t, f.Fake.Stats().Duplicates, "no recipient was sent twice")
	byTo := map[string]task.Result{}
	for _, r := range f.Results(t) {
		_, dup := byTo[r.To]
		require.False(t, dup, "two results for %s", r.To)
		byTo[r.To] = r
	}
	require.Len(t, byTo, len(tos), "one result per recipient")
	unknown := 0
	for _, to := range tos {
		r, ok := byTo[to]
		require.True(t, ok, "no result for %s", to)
		require.LessOrEqual(t, f.Fake.Attempts(to), 1, "at most one POST for %s", to)
		switch r.Status {
		case task.StatusSent:
			require.Equal(t, 1, f.Fake.Sends(to), "%s reported sent: the API accepted it", to)
		case task.StatusUnknown:
			unknown++
		default:
			t.Fatalf("%s: status %s, want sent or unknown", to, r.Status)
		}
		if f.Fake.Attempts(to) == 0 {
			require.NotEqual(t, task.StatusSent, r.Status, "%s was never POSTed", to)
		}
	}
	st := f.waitState(t, id, campaign.StateCompleted, 30*time.Second)
	require.EqualValues(t, len(tos)-unknown, st.Counts.Sent)
	require.EqualValues(t, unknown, st.Counts.Unknown)
	return unknown
}

// metricsAddr finds the address a worker process serves its metrics on,
// in its log.
var metricsAddr = regexp.MustCompile(`msg="serving metrics" addr=(\S+)`)

// sendsInFlight reads mmlite_sends_in_flight from the metrics of the
// worker process whose log is out; 0 before it serves them.
func sendsInFlight(t *testing.T, out *redistest.SyncBuffer) float64 {
	t.Helper()
	m := metricsAddr.FindStringSubmatch(out.String())
	if m == nil {
		return 0
	}
	resp, err := http.Get("http://" + m[1] + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "mmlite_sends_in_flight "); ok {
			n, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err, sc.Text())
			return n
		}
	}
	return 0
}
