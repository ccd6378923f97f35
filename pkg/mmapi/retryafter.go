package mmapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseRetryAfter reads a Retry-After header in either of its forms, a
// number of seconds or an HTTP date, relative to now. It returns 0 for a
// missing, malformed or past value, and never more than max.
func ParseRetryAfter(v string, now time.Time, max time.Duration) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || secs != secs { // negative, zero or NaN
			return 0
		}
		if secs >= max.Seconds() {
			return max
		}
		d = time.Duration(secs * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	switch {
	case d <= 0:
		return 0
	case d > max:
		return max
	}
	return d
}
