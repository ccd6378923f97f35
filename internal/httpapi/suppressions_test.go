package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/stretchr/testify/require"
)

// An import holds about a batch and a line, whatever its size: one 200 MiB
// line or element is refused where it is (it cost 0.9 to 1.5 GB before,
// past the whole api's memory budget), with a 400 that says where.
func TestSuppressions_ImportMemoryIsBounded(t *testing.T) {
	b := hookSetup(t, func(c *httpapi.Config) { c.MaxUpload = 1 << 30 })
	for _, tc := range []struct{ name, head, tail, want string }{
		{"json", `[{"to": "+441234567891", "reason": "`, `"}]`, "element 0: larger than"},
		{"csv", "to,reason\n+441234567891,", "\n", "line 2 is longer than"},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		a := b.serve("POST", "/v1/suppressions?scope="+fixtureWABA, newCounted(tc.head, 'x', 200<<20, tc.tail))
		runtime.ReadMemStats(&after)
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "%s: %d %s", tc.name, a.code, a.raw)
		require.Equal(t, 400, a.code, a.raw)
		require.Contains(t, a.raw, tc.want)
	}
}

// A quote that never closes swallowed the other lines: it was a 200 with
// {"added":1,"rejected":1}, the 98 numbers after it neither added nor
// counted. Now a 400 names the line, with what was added before it.
func TestSuppressions_ImportStopsAtAQuoteThatNeverCloses(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	body := "to,reason\n+441234500000,asked\n\"+441234500001,asked\n"
	for i := 2; i < 100; i++ {
		body += fmt.Sprintf("+4412345%05d,asked\n", i)
	}
	a := b.do(t, "POST", "/v1/suppressions?scope="+fixtureWABA, "text/csv", body)
	require.Equal(t, 400, a.code, a.raw)
	require.Contains(t, a.body["error"], "line 3: a quote opened here")
	require.EqualValues(t, 1, a.body["added"], a.raw)
	require.Equal(t, fixtureWABA, a.body["scope"])
}

func TestSuppressions_ImportRefusesDataAfterTheList(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	a := b.do(t, "POST", "/v1/suppressions?scope="+fixtureWABA, "application/json",
		`[{"to": "+441234567890"}] [{"to": "+441234567891"}]`)
	require.Equal(t, 400, a.code, a.raw)
	require.Contains(t, a.body["error"], "data after the JSON list")
}

// DELETE takes the number as the import did: "+44 1234 567890" is the
// entry 441234567890 (it was a 404, "not on the list").
func TestSuppressions_DeleteNormalisesTheNumber(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	require.Equal(t, 200, b.do(t, "POST", "/v1/suppressions?scope="+fixtureWABA, "text/csv", "to\n+44 1234 567890\n").code)
	a := b.do(t, "DELETE", "/v1/suppressions/"+fixtureWABA+"/"+url.PathEscape("+44 1234 567890"), "", "")
	require.Equal(t, 200, a.code, a.raw)
	require.Equal(t, "441234567890", a.body["to"], "the number removed, as the list holds it")
	a = b.do(t, "DELETE", "/v1/suppressions/"+fixtureWABA+"/nope", "", "")
	require.Equal(t, 400, a.code, a.raw)
}

// An import over MMLITE_MAX_UPLOAD is a 413 that counts what was added:
// every good entry before the limit, the last batch too.
func TestSuppressions_ImportOverTheUploadLimit(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, func(c *httpapi.Config) { c.MaxUpload = 4 << 10 })
	body := "to\n"
	for i := range 400 {
		body += fmt.Sprintf("4477009%05d\n", i)
	}
	a := b.do(t, "POST", "/v1/suppressions?scope="+fixtureWABA, "text/csv", body)
	require.Equal(t, 413, a.code, a.raw)
	require.Contains(t, a.body["error"], "larger than 4096 bytes (MMLITE_MAX_UPLOAD)")
	added := int(a.body["added"].(float64))
	require.Greater(t, added, 4000/13-2, "the lines read before the limit")
	l := b.do(t, "GET", fmt.Sprintf("/v1/suppressions?scope=%s&limit=1000", fixtureWABA), "", "")
	require.Len(t, l.body["entries"], added, "as many as it says")
}

// An import takes one of the intake's slots: beyond MaxIntake, it waits
// unread (the api's memory bound counts it there).
func TestSuppressions_ImportWaitsForAnIntakeSlot(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, func(c *httpapi.Config) { c.MaxIntake = 1 })
	pw, firstDone := holdIntake(t, b)

	imp := newCounted("to\n441234567890\n", ' ', 0, "")
	impDone := make(chan answer, 1)
	go func() {
		impDone <- b.serve("POST", "/v1/suppressions?scope="+fixtureWABA, imp, "Content-Type", "text/csv")
	}()
	time.Sleep(300 * time.Millisecond)
	require.Zero(t, imp.read.Load(), "the import waits before reading its body")
	require.NoError(t, pw.Close())
	require.Equal(t, http.StatusAccepted, (<-firstDone).code)
	a := <-impDone
	require.Equal(t, http.StatusOK, a.code, a.raw)
	require.EqualValues(t, 1, a.body["added"])
}

// A suppression CSV whose line is too long is refused naming that line,
// also after a record with a quoted multi-line reason or after blank lines
// (it named line 3 here, the line is 5).
func TestSuppressions_ImportLongLineNamesTheRightLine(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, func(c *httpapi.Config) { c.MaxUpload = 1 << 20 })
	long := strings.Repeat("y", 70<<10)
	for name, body := range map[string]string{
		"multi-line reason": "to,reason\n441234500001,\"asked\nby\nphone\"\n441234500002," + long + "\n",
		"blank lines":       "to,reason\n441234500001,asked\n\n\n441234500002," + long + "\n",
	} {
		a := b.do(t, "POST", "/v1/suppressions?scope="+fixtureWABA, "text/csv", body)
		require.Equal(t, 400, a.code, a.raw)
		require.Contains(t, a.body["error"], "line 5 is longer than", "%s: %s", name, a.raw)
	}
}

// GET /v1/suppressions?limit=N answers at most N entries (it answered the
// whole of a small list), and next_cursor goes on where the page stopped:
// the pages give each entry once.
func TestSuppressions_ListHonoursLimit(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, func(c *httpapi.Config) { c.MaxUpload = 1 << 20 })
	for _, n := range []int{50, 700} {
		b.r.Client.Del(context.Background(), b.r.Keys.Suppressed(fixtureWABA))
		body := "to,reason\n"
		for i := range n {
			body += fmt.Sprintf("4477009%05d,asked\n", i)
		}
		require.Equal(t, 200, b.do(t, "POST", "/v1/suppressions?scope="+fixtureWABA, "text/csv", body).code)
		seen := map[string]bool{}
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, n, "the pages never end")
			a := b.do(t, "GET", "/v1/suppressions?"+url.Values{"scope": {fixtureWABA}, "limit": {"7"}, "cursor": {cursor}}.Encode(), "", "")
			require.Equal(t, 200, a.code, a.raw)
			es := a.body["entries"].([]any)
			require.LessOrEqual(t, len(es), 7, "limit=7 answered %d entries, next_cursor=%v", len(es), a.body["next_cursor"])
			for _, e := range es {
				to := e.(map[string]any)["to"].(string)
				require.False(t, seen[to], "%s came twice", to)
				seen[to] = true
			}
			if cursor, _ = a.body["next_cursor"].(string); cursor == "" {
				break
			}
		}
		require.Len(t, seen, n, "the pages cover the list")
	}
}

// An import that is a JSON object rather than a list says it wants a JSON
// list, not a CSV quoting error ("line 1: bare \" in non-quoted-field").
func TestSuppressions_ImportJSONObjectSaysWantAList(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	a := b.do(t, "POST", "/v1/suppressions?scope="+fixtureWABA, "application/json", `{"to": "+441234567890", "reason": "asked"}`)
	require.Equal(t, 400, a.code, a.raw)
	require.NotContains(t, a.body["error"], `bare "`, a.raw)
	require.Contains(t, a.body["error"], "want a JSON list", a.raw)
}

// A cursor no page gave is a 400 worded as the campaign list's is (it said
// "guard: bad cursor", in the package's words): what is wrong, and what
// to do.
func TestSuppressions_BadCursorSaysWhatToDo(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	require.Equal(t, 200, b.do(t, "POST", "/v1/suppressions?scope="+fixtureWABA, "text/csv", "to\n447700900001\n").code)
	a := b.do(t, "GET", "/v1/suppressions?"+url.Values{"scope": {fixtureWABA}, "cursor": {"garbled"}}.Encode(), "", "")
	require.Equal(t, 400, a.code, a.raw)
	require.Equal(t, `cursor "garbled" is not one a previous page gave: start again without it`, a.body["error"], a.raw)
}
