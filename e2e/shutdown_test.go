package e2e_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// buildMMLite builds the mmlite binary for tests that run it as a process.
func buildMMLite(t *testing.T) string {
	t.Helper()
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			t.Skip("go is not available to build mmlite")
		}
	}
	bin := filepath.Join(t.TempDir(), "mmlite")
	cmd := exec.Command(gobin, "build", "-o", bin, "../cmd/mmlite")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/mmlite:\n%s", out)
	return bin
}

// workerProcess runs `mmlite worker` against the fleet, as a container
// would; env adds to (or overrides) its environment.
func (f *fleet) workerProcess(t *testing.T, bin string, out *redistest.SyncBuffer, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "worker")
	cmd.Env = append(os.Environ(), "MMLITE_REDIS_URL="+f.R.URL, "MMLITE_QUEUE="+f.R.Queue, "MMLITE_RESULTS_QUEUE="+f.R.Results,
		"MMLITE_API_KEY="+apiKey, "MMLITE_API_BASE_URL="+f.FakeSrv.URL, "MMLITE_RATE=100", "MMLITE_CONCURRENCY=50",
		"MMLITE_METRICS_ADDR=127.0.0.1:0", "MMLITE_HTTP_TIMEOUT=2s", "MMLITE_SHUTDOWN_TIMEOUT=5s", "MMLITE_MAX_WAIT=1s",
		"MMLITE_LOG_FORMAT=text")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = redistest.ChildAttr() // it dies with the test binary, even on a timeout panic
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

// SIGTERM in the middle of a campaign, with sends in flight: the worker
// finishes them within its shutdown timeout and exits 0; another worker
// sends the rest. Nothing is lost, nothing is sent twice, nothing is unknown.
func TestWorkerSIGTERM_MidCampaign_NothingLostNothingTwice(t *testing.T) {
	t.Parallel()
	bin := buildMMLite(t)
	f := newFleet(t, fakeapi.Config{Latency: fakeapi.Duration(300 * time.Millisecond)})
	f.publish(t, f.workerConfig(100).Senders...) // as the worker will: the producer paces by it
	var out1 redistest.SyncBuffer
	first := f.workerProcess(t, bin, &out1)
	// At 100/s the SIGTERM below comes after about 130 of 600: the worker
	// would be done before it only if it came 4 s late.
	tos := f.submit(t, "c1", 600)
	require.Eventually(t, func() bool { return f.accepted() >= 100 }, 60*time.Second, 10*time.Millisecond,
		"the worker never sent:\n%s", &out1)
	recorded := f.Status(t, "c1").Counts.Sent // the fake counts a POST on arrival, the ledger after the answer
	require.NoError(t, first.Process.Signal(syscall.SIGTERM))

	exited := make(chan error, 1)
	go func() { exited <- first.Wait() }()
	select {
	case err := <-exited:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("the worker exited %d on SIGTERM:\n%s", exit.ExitCode(), &out1)
		}
		require.NoError(t, err)
	case <-time.After(30 * time.Second): // far above MMLITE_SHUTDOWN_TIMEOUT: it hangs
		t.Fatalf("the worker did not exit after SIGTERM:\n%s", &out1)
	}

	// The sends in flight at SIGTERM (300 ms each, at 100/s) finished and
	// were recorded; nothing is held by the stopped worker.
	st := f.Status(t, "c1")
	require.Greater(t, st.Counts.Sent, recorded, "sends in flight at SIGTERM were finished, not cut off")
	t.Logf("%d sends finished after SIGTERM", st.Counts.Sent-recorded)
	require.Equal(t, f.accepted(), st.Counts.Sent, "every accepted send was recorded before exit")
	require.Zero(t, st.Counts.Unknown, "no send was cut off")
	require.Less(t, st.Counts.Sent, int64(len(tos)), "stopped mid-campaign")
	active, err := f.R.Client.LLen(f.Ctx, f.R.Keys.AsynqActive()).Result()
	require.NoError(t, err)
	require.Zero(t, active, "the stopped worker holds no job")
	require.Contains(t, out1.String(), "worker stopped")

	var out2 redistest.SyncBuffer
	f.workerProcess(t, bin, &out2)
	st = f.waitState(t, "c1", campaign.StateCompleted, 60*time.Second)
	require.EqualValues(t, len(tos), st.Counts.Sent, "the second worker sent the rest:\n%s", &out2)
	for _, to := range tos {
		require.Equal(t, 1, f.Fake.Attempts(to), "exactly one POST for %s", to)
	}
	results := f.Results(t)
	require.Len(t, results, len(tos))
	for _, r := range results {
		require.Equal(t, task.StatusSent, r.Status)
	}
}
