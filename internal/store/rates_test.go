package store

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The history reads each bucket's sends as a rate, zero where none was
// sent, the bucket under way over its elapsed part, nothing before the
// campaign was created.
func TestRateHistory(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(1_700_000_005_000) // 5 s into a bucket
	cur := now.UnixMilli() / 10_000
	h := map[string]string{
		"created_at":                        strconv.FormatInt(now.Add(-35*time.Second).UnixMilli(), 10),
		"r:" + strconv.FormatInt(cur, 10):   "20",
		"r:" + strconv.FormatInt(cur-1, 10): "50",
		"r:" + strconv.FormatInt(cur-9, 10): "999", // before the campaign: not shown
	}
	got := rateHistory(h, now)
	require.Len(t, got, 4) // the buckets from the one it was created in
	require.Equal(t, []float64{0, 0, 5, 4}, []float64{got[0].Rate, got[1].Rate, got[2].Rate, got[3].Rate})
	require.Equal(t, time.UnixMilli(cur*10_000).UTC(), got[3].At)
	require.Len(t, rateHistory(map[string]string{}, now), RateHistoryLen)
}
