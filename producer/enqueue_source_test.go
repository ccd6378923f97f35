package producer_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// brokenSource yields rows, then fails the way it was told to.
type brokenSource struct {
	rows  int
	panic bool
}

var errBroken = errors.New("disk on fire")

func (s *brokenSource) Next() (producer.Recipient, int, error) {
	if s.rows == 0 {
		if s.panic {
			panic("source bug")
		}
		return producer.Recipient{}, 0, errBroken
	}
	s.rows--
	return producer.Recipient{To: fmt.Sprintf("44770090%04d", s.rows)}, s.rows, nil
}

// A Source that panics or fails must not leave the enqueuer's writer
// goroutines behind (issue 10: 8 leaked per request), and the rows read
// before it are still enqueued.
func TestEnqueue_BrokenSourceLeavesNoGoroutines(t *testing.T) {
	// Not parallel: it counts the process's goroutines.
	b := setup(t)
	c := b.campaign(t, nil)
	// A first run opens the Redis connections the writers use (3 at most).
	_, err := b.p.Enqueue(b.ctx, c, &brokenSource{rows: 30}, producer.Options{})
	require.ErrorIs(t, err, errBroken)
	before := runtime.NumGoroutine()
	for _, panics := range []bool{false, true} {
		for range 20 {
			var sum *producer.Summary
			var err error
			require.NotPanics(t, func() {
				sum, err = b.p.Enqueue(b.ctx, c, &brokenSource{rows: 10, panic: panics}, producer.Options{})
			})
			require.Error(t, err)
			if panics {
				require.ErrorContains(t, err, "source bug")
				var ie *producer.InputError
				require.False(t, errors.As(err, &ie), "a panic is a bug of ours, not a problem with the input")
			} else {
				require.ErrorIs(t, err, errBroken)
			}
			require.EqualValues(t, 10, sum.Accepted+sum.Duplicates, "the rows before the failure are enqueued")
		}
	}
	// Before the fix, each run left its 3 writers behind: 60 more.
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+3 }, 5*time.Second, 10*time.Millisecond,
		"goroutines: %d before, %d after", before, runtime.NumGoroutine())
}

// Large rows end a batch early, so that the batches in flight stay a
// bounded amount of memory however large the rows are (a row can be up to
// MaxLine): 20 rows of 512 KiB make several Redis calls, not one of 10 MiB.
func TestEnqueue_LargeRowsMakeSmallerBatches(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	p, err := producer.New(producer.Config{Client: r.Client, Queue: r.Queue, Concurrency: 1})
	require.NoError(t, err)
	c := &campaign.Campaign{ID: "big-rows", Template: mmapi.Template{Name: "t", Language: mmapi.Language{Code: "en"}}}
	_, err = p.Register(context.Background(), c)
	require.NoError(t, err)
	var sb strings.Builder
	sb.WriteString("to,body.1\n")
	big := strings.Repeat("x", 512<<10)
	for i := range 20 {
		fmt.Fprintf(&sb, "4477009%05d,%s\n", i, big)
	}
	var batches []int64
	sum, err := p.Enqueue(context.Background(), c, producer.NewCSVSource(strings.NewReader(sb.String())),
		producer.Options{Progress: func(s producer.Summary) { batches = append(batches, s.Accepted) }})
	require.NoError(t, err)
	require.EqualValues(t, 20, sum.Accepted)
	require.GreaterOrEqual(t, len(batches), 3, "accepted after each batch: %v", batches)
}
