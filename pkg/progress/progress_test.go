package progress_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/progress"
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
	require.Equal(t, "completed", final.State)
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
