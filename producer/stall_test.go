package producer_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// stallSource gives first rows, waits stall, then gives then more.
type stallSource struct {
	first, then, i int
	stall          time.Duration
	resumed        time.Time
}

func (s *stallSource) Next() (producer.Recipient, int, error) {
	if s.i == s.first+s.then {
		return producer.Recipient{}, 0, io.EOF
	}
	if s.i == s.first {
		time.Sleep(s.stall)
		s.resumed = time.Now()
	}
	s.i++
	return producer.Recipient{To: fmt.Sprintf("4477009%05d", s.i)}, s.i + 1, nil
}

// Rows read after a stall in the input (a slow upload, a pipe that waits)
// are paced from the time they are written, not from the enqueue's start:
// slots in the past would make them all due at once, the burst pacing is
// there to prevent (found in review).
func TestEnqueue_RowsAfterAStallArePacedFromThen(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.publishSender(t, "default", 100) // a slot every 10 ms
	c := b.campaign(t, nil)
	src := &stallSource{first: 7, then: 300, stall: 2 * time.Second}
	sum, err := b.p.Enqueue(b.ctx, c, src, producer.Options{})
	require.NoError(t, err)
	require.EqualValues(t, 307, sum.Accepted)

	// The 300 rows after the stall take 3 s of slots from when they were
	// read: the last no earlier than 2.99 s after (slots are whole seconds).
	last, err := b.r.Client.ZRangeWithScores(b.ctx, b.r.Keys.AsynqScheduled(), -1, -1).Result()
	require.NoError(t, err)
	require.Len(t, last, 1, "the last rows are scheduled")
	require.GreaterOrEqual(t, int64(last[0].Score), src.resumed.Add(2990*time.Millisecond).Unix(),
		"the last slot is %.1f s after the rows were read", last[0].Score-float64(src.resumed.UnixMilli())/1000)
}
