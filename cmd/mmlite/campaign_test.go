package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// The same follow-up command run again (after a failure part-way, which
// left the follow-up open with part of its recipients) finishes it: exit
// 0, the recipients it has are duplicates. Another one into its id is
// refused, saying what the id holds.
func TestFollowUpCommand_RunAgainFinishes(t *testing.T) {
	t.Parallel()
	_, url := enqueueSpring(t, "to,body.1,meta.n\n441234567890,Ana,Ana\n441234567891,Bob,Bob\n")
	settleAll(t, url, "spring", map[string]string{"441234567890": "Ana", "441234567891": "Bob"})

	args := []string{"--redis-url", url, "campaign", "follow-up", "spring", "--as", "spring-2", "--status", "failed", "--code", "131026"}
	for i, want := range []producer.Summary{{Accepted: 1}, {Duplicates: 1}} {
		out, code := run(t, args...)
		require.Equal(t, 0, code, "run %d: %s", i, out)
		var sum producer.Summary
		require.NoError(t, json.Unmarshal([]byte(out), &sum))
		require.Equal(t, want.Accepted, sum.Accepted, out)
		require.Equal(t, want.Duplicates, sum.Duplicates, out)
	}
	out, code := run(t, "--redis-url", url, "campaign", "follow-up", "spring", "--as", "spring-2", "--status", "failed,expired")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "spring-2 exists: it is a follow-up of spring (statuses failed, codes 131026): choose another id")
}

// A cancel whose wait runs out while a send is in flight has taken effect:
// exit 0, the cancelled status, and a note of the send still in flight.
func TestCancelCommand_SendInFlightAfterTheWait(t *testing.T) {
	t.Parallel()
	mr, url := enqueueSpring(t, "to\n441234567890\n441234567891\n")
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	keys := keyspace.New(task.SendQueue)
	id := task.SendID("spring", "441234567890")
	require.NoError(t, rdb.LPush(ctx, keys.AsynqActive(), id).Err())
	require.NoError(t, rdb.ZAdd(ctx, keys.AsynqLease(), redis.Z{Score: float64(time.Now().Add(time.Minute).Unix()), Member: id}).Err())

	out, code := run(t, "--redis-url", url, "campaign", "cancel", "--cancel-wait", "100ms", "spring")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, `"state": "cancelled"`)
	require.True(t, strings.HasSuffix(strings.TrimSpace(out),
		"note: campaign spring is cancelled; 1 send of it was still in flight after 100ms: it ends with its own outcome, and nothing of the campaign is sent after it"), out)
}

// A cancel wait of 0 or less is refused: the producer took it for "not
// set" and waited 30 s.
func TestCancelWait_ZeroRefused(t *testing.T) {
	t.Parallel()
	out, code := run(t, "campaign", "cancel", "--cancel-wait", "0s", "spring")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "MMLITE_CANCEL_WAIT (--cancel-wait) is 0s: it must be above 0")
	out, code = run(t, "api", "--cancel-wait", "-1s", "--insecure-no-auth")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "MMLITE_CANCEL_WAIT (--cancel-wait) is -1s")
}
