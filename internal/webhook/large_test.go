package webhook

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A webhook of many thousands of statuses allocates about what its events
// hold: its statuses are not grown by append, several times over, nor
// decoded into a list that is then grown again. 8 MiB of the shortest
// statuses, a quarter of a million, once read by quick (sent) and once by
// decode (failed).
func TestParse_LargeWebhookAllocatesItsEventsOnce(t *testing.T) {
	for _, c := range []struct {
		kind, status string
		most         int // bytes allocated, in body sizes
	}{
		{"sent", `{"id":"w%d","status":"sent"}`, 6},
		{"failed", `{"id":"w%d","status":"failed","errors":[{"code":131049}]}`, 22},
	} {
		var b strings.Builder
		b.WriteString(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":` +
			`{"metadata":{"phone_number_id":"106540352242922"},"statuses":[`)
		n := 0
		for ; b.Len() < 8<<20-100; n++ {
			if n > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, c.status, n)
		}
		b.WriteString(`]}}]}]}`)
		body := []byte(b.String())
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		ev, err := Parse(body)
		runtime.ReadMemStats(&m1)
		require.NoError(t, err)
		require.Len(t, ev.Statuses, n)
		alloc := m1.TotalAlloc - m0.TotalAlloc
		t.Logf("%s: %d statuses, %.1f MiB allocated for %.1f MiB", c.kind, n, float64(alloc)/(1<<20), float64(len(body))/(1<<20))
		require.LessOrEqual(t, alloc, uint64(c.most*len(body)), "%s: allocated %.1f times the body", c.kind, float64(alloc)/float64(len(body)))
	}
}

// A webhook whose statuses are all counted as other (no message id or no
// status) has no Statuses: nil, as before its statuses were made room
// for, whether quick or decode reads it and however large it is.
func TestParse_NoStatusKeptIsNil(t *testing.T) {
	const quickBody = `{"entry":[{"changes":[{"field":"messages","value":{"statuses":[{"status":"sent"}%s]}}]}]}`
	// An escape is decode's (see quick).
	const decodeBody = `{"entry":[{"changes":[{"field":"messages","value":{"statuses":[{"status":"s\u0065nt"}%s]}}]}]}`
	pad := strings.Repeat(`,{"id":"","status":"sent"}`, largeBody/20)
	for name, body := range map[string]string{
		"quick": fmt.Sprintf(quickBody, ""), "quick, large": fmt.Sprintf(quickBody, pad),
		"decode": fmt.Sprintf(decodeBody, ""), "decode, large": fmt.Sprintf(decodeBody, pad),
	} {
		ev, err := Parse([]byte(body))
		require.NoError(t, err, name)
		require.Nil(t, ev.Statuses, name)
		require.Positive(t, ev.Other, name)
		want, err := slowParse([]byte(body))
		require.NoError(t, err, name)
		require.Equal(t, want, ev, name)
	}
}
