package outbound_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/stretchr/testify/require"
)

// A destination's answer is quoted in the delivery's error, which asynq
// keeps in the task (a protobuf string: UTF-8 only). An answer cut in the
// middle of a character (its first 300 bytes), or one that is not text,
// made that error invalid UTF-8: asynq could neither archive the refused
// delivery nor schedule its retry ("Could not move task ... Will retry
// syncing"), so it sat in flight until its lease expired, was retried as
// "task lease expired", and a refusal was never archived, its answer lost.
func TestRelay_AnswerThatIsNotUTF8IsKept(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	in := asynq.NewInspectorFromRedisClient(r.Client)
	for _, answer := range []string{
		strings.Repeat("a", 299) + "été refusé", // the 300th byte is inside the "é"
		"refused: \xff\xfe binary",
	} {
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(answer))
		}))
		t.Cleanup(recv.Close)
		d := relayOne(t, r, recv.URL, outbound.Config{RetryBase: time.Hour, RetryMax: time.Hour})
		var arch []*asynq.TaskInfo
		require.Eventually(t, func() bool {
			arch, _ = in.ListArchivedTasks(d.Queue())
			return len(arch) == 1
		}, 10*time.Second, 20*time.Millisecond, "the refusal is archived: %q", answer)
		require.Contains(t, arch[0].LastErr, "HTTP 422: "+answer[:8], "with its answer")
		require.True(t, utf8.ValidString(arch[0].LastErr))
	}
}
