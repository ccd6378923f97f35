package progress_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/progress"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

func TestLineAndWatch(t *testing.T) {
	t.Parallel()
	st := &campaign.Status{ID: "c", State: "running", Counts: task.Counts{Enqueued: 10, Sent: 4, Failed: 1, Delivered: 3, Read: 1}}
	line := progress.Line(st, 12.5)
	require.Contains(t, line, "5/10 ( 50%)")
	require.Contains(t, line, "sent 4 failed 1")
	require.Contains(t, line, "12.5 msg/s")

	calls := 0
	var out bytes.Buffer
	final, err := progress.Watch(context.Background(), &out, false, time.Millisecond, func(context.Context) (*campaign.Status, error) {
		calls++
		s := *st
		if calls == 3 {
			s.State, s.Counts.Sent, s.Counts.Failed = "completed", 9, 1
		}
		return &s, nil
	})
	require.NoError(t, err)
	require.Equal(t, campaign.StateCompleted, final.State)
	require.Contains(t, out.String(), "completed 10/10 (100%)")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = progress.Watch(ctx, &out, true, time.Millisecond, func(context.Context) (*campaign.Status, error) { return st, nil })
	require.ErrorIs(t, err, context.Canceled)
}

func TestTallyAndTable(t *testing.T) {
	t.Parallel()
	rows := progress.Tally([]task.Result{
		{Status: "sent"}, {Status: "sent"}, {Status: "sent"},
		{Status: "failed", Error: &task.Error{Code: 131026, Class: "permanent", Title: "Message undeliverable"}},
		{Status: "failed", Error: &task.Error{Code: 131026, Class: "permanent", Title: "Message undeliverable"}},
		{Status: "unknown", Error: &task.Error{Class: "ambiguous", Title: "timeout"}},
	})
	require.Equal(t, []progress.Outcome{
		{Status: "sent", Count: 3},
		{Status: "failed", Code: 131026, Class: "permanent", Title: "Message undeliverable", Count: 2},
		{Status: "unknown", Class: "ambiguous", Title: "timeout", Count: 1},
	}, rows)
	var out bytes.Buffer
	progress.Table(&out, rows)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 4)
	require.Contains(t, lines[2], "131026")
}

// Issue 12: --watch showed 100 % while recipients were still being sent.
func TestLine_NeverFullBeforeEveryRecipientIsFinal(t *testing.T) {
	t.Parallel()
	st := &campaign.Status{ID: "c", State: "running", Sealed: true, Counts: task.Counts{Enqueued: 1000, Sent: 998, Failed: 1}}
	line := progress.Line(st, 0)
	require.Contains(t, line, "999/1000 ( 99%)", line)
	require.Contains(t, line, "sealed")
	st.Counts.Sent = 999
	require.Contains(t, progress.Line(st, 0), "1000/1000 (100%)")

	// An open campaign whose recipients so far are all final may get more.
	st = &campaign.Status{ID: "c", State: "running", Counts: task.Counts{Enqueued: 5, Sent: 5}}
	require.Contains(t, progress.Line(st, 0), "open")
	require.NotContains(t, progress.Line(st, 0), "sealed")

	for _, tc := range []struct {
		c    task.Counts
		want int
	}{
		{task.Counts{}, 0},
		{task.Counts{Enqueued: 3, Sent: 1}, 33},
		{task.Counts{Enqueued: 3, Sent: 2}, 66},
		{task.Counts{Enqueued: 200, Sent: 199}, 99},
		{task.Counts{Enqueued: 100000, Sent: 99999}, 99},
		{task.Counts{Enqueued: 10, Sent: 9, Cancelled: 1}, 100},
	} {
		require.Equal(t, tc.want, progress.Percent(tc.c), "%+v", tc.c)
	}
}

// Issue 12: --watch showed a jumpy rate (sends in one half-second tick, none
// in the next). The rate is over a sliding window.
func TestMeter_SmoothsOverItsWindow(t *testing.T) {
	t.Parallel()
	m := progress.NewMeter(10 * time.Second)
	t0 := time.Unix(1_700_000_000, 0)
	require.Zero(t, m.Add(t0, 0), "no rate from one sample")
	// 50 messages a second on average, delivered in bursts: 50 at every
	// even tick of half a second, none at the odd ones.
	var sent int64
	var rates []float64
	for i := 1; i <= 60; i++ {
		if i%2 == 0 {
			sent += 50
		}
		rates = append(rates, m.Add(t0.Add(time.Duration(i)*500*time.Millisecond), sent))
	}
	for _, r := range rates[20:] { // once the window is full
		require.InDelta(t, 50, r, 3, "steady within a few per cent: %v", rates)
	}
	// The window forgets: after a stop the rate falls to 0 within it.
	end := t0.Add(30 * time.Second)
	require.Greater(t, m.Add(end.Add(5*time.Second), sent), 0.0)
	require.Zero(t, m.Add(end.Add(11*time.Second), sent))
	// A count that goes down (another campaign's status, a reset) never
	// shows a negative rate.
	require.GreaterOrEqual(t, m.Add(end.Add(12*time.Second), 0), 0.0)
}

// The line says when the campaign should end, and why it waits.
func TestLine_ETAAndWaiting(t *testing.T) {
	t.Parallel()
	eta := time.Now().Add(time.Minute)
	st := &campaign.Status{ID: "c", State: "running", Sealed: true, Counts: task.Counts{Enqueued: 10, Sent: 4}, ETA: &eta}
	require.Contains(t, progress.Line(st, 2), "| eta ") // the time of day, with the date when not today
	until := time.Now().Add(2 * time.Second)
	st.Waiting = &campaign.Waiting{Reason: campaign.WaitThrottled, Until: &until}
	require.Contains(t, progress.Line(st, 0), "| waiting: throttled until ")
	st.ETA, st.Waiting = nil, &campaign.Waiting{Reason: campaign.WaitPaused}
	line := progress.Line(st, 0)
	require.True(t, strings.HasSuffix(line, "| waiting: paused"), line)
	require.NotContains(t, line, "eta")
}

func TestLine_SuppressedShownWhenAny(t *testing.T) {
	t.Parallel()
	st := &campaign.Status{ID: "c", State: "running", Counts: task.Counts{Enqueued: 10, Sent: 4}}
	require.NotContains(t, progress.Line(st, 1), "suppressed")
	st.Counts.Suppressed = 3
	line := progress.Line(st, 1)
	require.Contains(t, line, "cancelled 0 suppressed 3 |")
	require.Contains(t, line, "7/10", "suppressed recipients are final")
}
