package worker

import (
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// 131049 (per-user cap) and 131056 (pair rate) are counted apart: a first
// 131049 after some 131056 delays waits out its cooldown (it failed the
// recipient at once), and the 131056 series after a cooldown starts at 4 s
// and runs its five delays (it started at 16 s and stopped at four). Found
// in review: one count stood for both.
func TestDecide_UserCapAndPairRateCountApart(t *testing.T) {
	t.Parallel()
	w := &Worker{guard: guard.New(nil, store.New(nil, keyspace.New("q"), store.Options{}), guard.Config{Cooldown: time.Hour})}
	pair := &mmapi.Error{Class: mmapi.ClassRecipientDelay, Code: 131056}
	userCap := &mmapi.Error{Class: mmapi.ClassRecipientDelay, Code: guard.CodeUserCap}
	j := &job{send: &task.Send{Campaign: "c", To: "447700900001"}, maxRetry: 25}
	next := func(e *mmapi.Error) verdict {
		v := w.decide(j, e)
		j.delays = v.delays
		return v
	}

	require.Equal(t, 4*time.Second, next(pair).retry.delay)
	v := next(userCap)
	require.Empty(t, v.status, "a first 131049 waits out its cooldown")
	require.Equal(t, time.Hour, v.retry.delay)
	var got []time.Duration
	for {
		v := next(pair)
		if v.status != "" {
			require.Equal(t, task.StatusFailed, v.status)
			break
		}
		got = append(got, v.retry.delay)
	}
	require.Equal(t, []time.Duration{16 * time.Second, 64 * time.Second, 256 * time.Second, 1024 * time.Second}, got,
		"the pair-rate series goes on where it was, past the cooldown: five delays in all")

	j.delays = 0
	require.Empty(t, next(userCap).status)
	require.Empty(t, next(pair).status)
	require.Equal(t, task.StatusFailed, next(userCap).status, "a second 131049 fails, whatever came between")

	j.delays = 0
	require.Empty(t, next(userCap).status)
	require.Equal(t, 4*time.Second, next(pair).retry.delay, "after a cooldown, the pair-rate series starts at 4 s")
}
