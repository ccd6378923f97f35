package producer_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// cancelSource yields rows; after the first batch is written it yields one
// more, then cancels the enqueue's context and ends, as a stdin does that
// is closed after a SIGTERM.
type cancelSource struct {
	i       int
	written chan struct{}
	cancel  context.CancelFunc
}

func (s *cancelSource) Next() (producer.Recipient, int, error) {
	s.i++
	switch {
	case s.i == 9:
		s.cancel()
		return producer.Recipient{}, 0, io.EOF
	case s.i == 8:
		<-s.written // the first batch (BatchSize 7)
	}
	return producer.Recipient{To: fmt.Sprintf("4477009%05d", s.i)}, s.i + 1, nil
}

// An enqueue whose context ends before every row it read was written is
// interrupted, even when the input then ends: it returned nil, and the
// CLI said the rows it dropped were a success (found in review). What was
// written stays written, and the summary counts it.
func TestEnqueue_CancelledBeforeRowsWereWritten(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	src := &cancelSource{written: make(chan struct{}, 1), cancel: cancel}
	progress := func(producer.Summary) {
		select {
		case src.written <- struct{}{}:
		default:
		}
	}
	sum, err := b.p.Enqueue(ctx, c, src, producer.Options{Progress: progress})
	require.ErrorIs(t, err, context.Canceled)
	require.EqualValues(t, 7, sum.Accepted, "the batch written before is counted")

	st, err := b.p.Store().Campaigns.Status(b.ctx, c.ID)
	require.NoError(t, err)
	require.EqualValues(t, 7, st.Counts.Enqueued)
}
