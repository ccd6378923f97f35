package outbound

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// give's account of a delivery's age (elapsed, expired) is the waits asynq
// scheduled with retryDelay, which counts the retries from 0.
func TestConfig_AgeIsTheWaitsAsynqScheduled(t *testing.T) {
	t.Parallel()
	c := Config{RetryBase: 10 * time.Second, RetryMax: time.Hour, MaxAge: 7 * 24 * time.Hour}
	require.Equal(t, []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second},
		[]time.Duration{c.retryDelay(0, nil, nil), c.retryDelay(1, nil, nil), c.retryDelay(2, nil, nil)})
	var waited time.Duration
	for retried := 0; retried < 200; retried++ {
		require.Equal(t, waited, c.elapsed(retried), "after %d retries", retried)
		next := c.retryDelay(retried, nil, nil)
		require.Equal(t, waited+next > c.MaxAge, c.expired(retried), "after %d retries", retried)
		waited += next
	}
}
