package store

import (
	"strconv"
	"time"
)

// RateHistoryLen is how many rate buckets LiveWithRates returns: the ten
// minutes the settle script keeps.
const RateHistoryLen = 60

// RatePoint is a campaign's sends per second over one rate bucket.
type RatePoint struct {
	At   time.Time // the bucket's start
	Rate float64
}

// rateHistory is a campaign's sends per second in each rate bucket (see
// rateOf) of the last ten minutes, from its hash h, oldest first, ending
// with the bucket under way (its rate over the part of it that has
// passed); buckets before the campaign was created are left out.
func rateHistory(h map[string]string, now time.Time) []RatePoint {
	created, _ := strconv.ParseInt(h["created_at"], 10, 64)
	size := rateBucket.Milliseconds()
	cur := now.UnixMilli() / size
	out := make([]RatePoint, 0, RateHistoryLen)
	for b := cur - RateHistoryLen + 1; b <= cur; b++ {
		start := b * size
		if start+size <= created {
			continue
		}
		n, _ := strconv.ParseInt(h["r:"+strconv.FormatInt(b, 10)], 10, 64)
		span := rateBucket
		if b == cur {
			span = max(now.Sub(time.UnixMilli(start)), time.Second)
		}
		out = append(out, RatePoint{At: time.UnixMilli(start).UTC(), Rate: float64(n) / span.Seconds()})
	}
	return out
}
