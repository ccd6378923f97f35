package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/stretchr/testify/require"
)

// A status webhook whose timestamp is missing or unreadable still says
// the status happened: its delivery in the recipient lookup and its
// mmlite:status task both say when mmlite received it, the same second
// (found in review: the lookup said 1970-01-01, the task
// 0001-01-01T00:00:00Z). A sent status takes the one-step path, a failed
// one the path that looks it up first.
func TestWebhooks_StatusWithoutATimeIsTakenAsReceived(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		fixture, stamp, to string
		at                 func(store.DeliveryState) *time.Time
	}{
		"sent":   {"webhook_status_sent.json", `"timestamp": "1764064800",`, "441234567890", func(d store.DeliveryState) *time.Time { return d.Sent }},
		"failed": {"webhook_status_failed.json", `"timestamp": "1764064811",`, "12125550123", func(d store.DeliveryState) *time.Time { return d.Failed }},
	} {
		for what, stamp := range map[string]string{"missing": "", "unreadable": `"timestamp": "soon",`} {
			t.Run(name+" "+what, func(t *testing.T) {
				t.Parallel()
				b := hookSetup(t, nil)
				before := time.Now().Truncate(time.Second)
				require.Equal(t, 200, b.hook(t, strings.Replace(fixture(t, c.fixture), c.stamp, stamp, 1)).code)
				after := time.Now()

				a := b.do(t, "GET", "/v1/campaigns/spring-sale-2026/recipients/"+c.to, "", "")
				require.Equal(t, 200, a.code, a.raw)
				var w store.Whereabouts
				require.NoError(t, json.Unmarshal([]byte(a.raw), &w))
				require.NotNil(t, w.Delivery, a.raw)
				at := c.at(*w.Delivery)
				require.NotNil(t, at, a.raw)
				require.False(t, at.Before(before) || at.After(after), "the lookup says %s, received between %s and %s", at, before, after)

				tasks := b.statusTasks(t)
				require.Len(t, tasks, 1)
				require.True(t, tasks[0].Timestamp.Equal(*at), "the task says %s, the lookup %s", tasks[0].Timestamp, at)
			})
		}
	}
}
