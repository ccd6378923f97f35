package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// The results export weighs Accept as HTTP says: the type of the higher q
// is sent. "text/csv;q=0.5, application/x-ndjson" (JSON Lines preferred)
// got CSV, and "text/*" (no JSON Lines) got JSON Lines; a weight that is
// no number from 0 to 1 was read as 1, now it is a 400 naming it.
func TestResults_AcceptWeights(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	const csv, jsonl = "text/csv", "application/x-ndjson"
	for accept, want := range map[string]string{
		"":                                     jsonl,
		"*/*":                                  jsonl,
		"image/png;x, text/csv":                csv, // a broken range of a type not sent is no matter
		"image/png;q=5, text/csv":              csv,
		"application/json":                     jsonl,
		"text/csv":                             csv,
		"TEXT/CSV":                             csv,
		"text/*":                               csv,
		"text/csv, */*":                        csv,
		"application/x-ndjson, text/csv":       csv, // a tie: text/csv was named
		"text/csv;q=0.5, application/x-ndjson": jsonl,
		"text/csv;q=0.5, */*;q=0.4":            csv,
		"text/csv;q=0.5, application/*":        jsonl,
		"application/x-ndjson;q=0.2, text/csv;q=0.9": csv,
		"text/*;q=0.9, application/x-ndjson;q=0.8":   csv,
		"text/csv;q=0, */*":                          jsonl,
		"text/*;q=1, text/csv;q=0":                   jsonl, // the more specific range decides
		// JSON Lines by any of the names an upload takes (found in review:
		// application/jsonl was not weighed, and the CSV's 0.5 won).
		"application/jsonl, text/csv;q=0.5":       jsonl,
		"application/x-jsonlines, text/csv;q=0.5": jsonl,
	} {
		a := b.do(t, "GET", "/v1/campaigns/spring-sale-2026/results", "", "", "Accept", accept)
		require.Equal(t, http.StatusOK, a.code, "%q: %s", accept, a.raw)
		require.Contains(t, a.hdr.Get("Content-Type"), want, "Accept: %q", accept)
	}
	for accept, want := range map[string]string{
		"text/csv;q=abc":                     `Accept: "text/csv;q=abc": q must be a number from 0 to 1`,
		"application/x-ndjson, text/csv;q=2": `Accept: "text/csv;q=2": q must be a number from 0 to 1`,
		"text/csv;q=-1":                      `Accept: "text/csv;q=-1": q must be a number from 0 to 1`,
		"text/csv;q=NaN":                     `Accept: "text/csv;q=NaN": q must be a number from 0 to 1`,
		"text/csv;q=":                        `Accept: "text/csv;q=": its parameters cannot be read`,
		"*/*;q":                              `Accept: "*/*;q": its parameters cannot be read`,
	} {
		a := b.do(t, "GET", "/v1/campaigns/spring-sale-2026/results", "", "", "Accept", accept)
		require.Equal(t, http.StatusBadRequest, a.code, "%q: %s", accept, a.raw)
		require.Equal(t, want, a.body["error"], accept)
	}
}
