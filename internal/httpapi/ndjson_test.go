package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// A CSV posted as JSON Lines (Content-Type: application/x-ndjson) was taken
// as rows: 202, and every line a rejected row in encoding/json's words,
// unless its first line happened to be a valid CSV header (found in
// review). A body whose first line is no JSON object is refused with 400,
// saying what it looks like and which Content-Type to send, and nothing is
// enqueued; bad rows after a first object stay rejected rows.
func TestAddRecipients_CSVPostedAsJSONLines(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	path := "/v1/campaigns/spring-sale-2026/recipients"
	for body, want := range map[string]string{
		"phone,name\n+15550001,Ann\n":                 "line 1: not a JSON object: the input looks like CSV: send it with Content-Type: text/csv",
		"to,body.1\n441234567890,Ana\n":               "line 1: this is a CSV header, not JSON Lines: send it with Content-Type: text/csv",
		`[{"to": "441234567890"}]` + "\n":             "line 1: an array, not a JSON object: the input looks like a JSON array: write one recipient object per line",
		"\n441234567890\n" + `{"to": "441234567891"}`: `line 2: a number, not a JSON object {"to": ...}: JSON Lines has one recipient object per line`,
	} {
		a := b.do(t, "POST", path, "application/x-ndjson", body)
		require.Equal(t, http.StatusBadRequest, a.code, a.raw)
		require.Equal(t, want, a.body["error"], "%q", body)
	}
	a := b.do(t, "POST", path, "application/x-ndjson", `{"to": "441234567891"}`+"\nphone,name\n")
	require.Equal(t, 202, a.code, a.raw)
	require.EqualValues(t, 1, a.body["accepted"], "nothing enqueued before; the good row now")
	require.EqualValues(t, 1, a.body["rejected"])
}

// An empty JSON Lines body (or one of blank lines) was a 202 of nothing,
// where an empty CSV body is a 400 and mmlite enqueue refuses an empty
// JSON Lines file (found in review): refused alike, saying so.
func TestAddRecipients_EmptyJSONLinesBody(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	for _, body := range []string{"", "\n \n"} {
		a := b.do(t, "POST", "/v1/campaigns/spring-sale-2026/recipients", "application/x-ndjson", body)
		require.Equal(t, http.StatusBadRequest, a.code, a.raw)
		require.Equal(t, `line 1: the file is empty: want one JSON object {"to": ...} per line`, a.body["error"], "%q", body)
	}
}
