package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Issue 10, item 1 over HTTP: a CSV upload whose quote never closes was a
// 500 that lost the valid rows before it and leaked the enqueuer's
// goroutines. It is a 400 naming the line, with the summary of what was kept.
func TestAddRecipients_UnclosedQuote(t *testing.T) {
	// Not parallel: it counts the process's goroutines.
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	path := "/v1/campaigns/spring-sale-2026/recipients"
	var sb strings.Builder
	sb.WriteString("to\n")
	for i := range 300 {
		fmt.Fprintf(&sb, "4477009%05d\n", i)
	}
	sb.WriteString("\"x")

	// One request first, so that the server's and client's own goroutines exist.
	a := b.do(t, "POST", path, "text/csv", "to\n441234567890\n")
	require.Equal(t, 202, a.code, a.raw)
	runtime.GC()
	before := runtime.NumGoroutine()
	for range 20 {
		a = b.do(t, "POST", path, "text/csv", sb.String())
		require.Equal(t, http.StatusBadRequest, a.code, a.raw)
		require.Equal(t, "line 302: a quote opened here never closes", a.body["error"], "as docs/campaigns.md shows it: no \"read recipients: \" before the line")
		sum, ok := a.body["summary"].(map[string]any)
		require.True(t, ok, a.raw)
		require.EqualValues(t, 300, sum["accepted"].(float64)+sum["duplicates"].(float64), "the rows before the quote are kept")
	}
	st, err := b.p.Store().Campaigns.Status(context.Background(), "spring-sale-2026")
	require.NoError(t, err)
	require.EqualValues(t, 301, st.Counts.Enqueued)
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= before+2 }, 5*time.Second, 10*time.Millisecond,
		"goroutines: %d before, %d after", before, runtime.NumGoroutine())
}
