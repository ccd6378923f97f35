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
		require.Equal(t, waited+next > c.MaxAge, c.expired(retried, nil), "after %d retries", retried)
		waited += next
	}
}

// MMLITE_RELAY_MAX_AGE is refused past 90 days, saying the bounds: a
// campaign's callback_url is kept for callbacks that old (see
// store.CallbackURLMargin).
func TestConfig_MaxAgeBounds(t *testing.T) {
	t.Parallel()
	cb := NewCallbacks("https://crm.example.com/mmlite", "s")
	for _, age := range []time.Duration{time.Second, MaxMaxAge + time.Hour} {
		err := Config{Callbacks: cb, MaxAge: age}.WithDefaults().Validate()
		require.ErrorContains(t, err, "MMLITE_RELAY_MAX_AGE must be between 1m and 2160h0m0s (90 days), got "+age.String())
	}
	require.NoError(t, Config{Callbacks: cb, MaxAge: MaxMaxAge}.WithDefaults().Validate())
}

// A POST's timeout was 30 s whatever the shutdown's: a worker (whose
// MMLITE_SHUTDOWN_TIMEOUT is 30 s) handed a POST still in flight back to
// the queue at SIGTERM, to be made again by another worker, where the
// style's rule (HTTP client timeout < asynq ShutdownTimeout) has it end
// first, answered or failed. It defaults to less than the shutdown's wait.
func TestConfig_HTTPTimeoutEndsBeforeShutdownTimeout(t *testing.T) {
	t.Parallel()
	for _, st := range []time.Duration{0, 2 * time.Second, 10 * time.Second, 30 * time.Second, 5 * time.Minute} {
		c := Config{ShutdownTimeout: st}.WithDefaults()
		require.Less(t, c.HTTPTimeout, c.ShutdownTimeout, "shutdown %s", st)
		require.Positive(t, c.HTTPTimeout)
		require.LessOrEqual(t, c.HTTPTimeout, 30*time.Second)
	}
	require.Equal(t, 5*time.Second, Config{ShutdownTimeout: time.Minute, HTTPTimeout: 5 * time.Second}.WithDefaults().HTTPTimeout, "set: kept")
}
