package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The API's errors carried the word of the Go package that made them
// ("guard: not a phone number: \"nope\" is not a phone number: ...",
// "producer: bad recipient: to: ...", "campaign: not found: nope"), which
// says nothing to a client and repeated itself. Each reads as a sentence
// that says what and which.
func TestErrors_ReadAsSentences(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	ok := b.do(t, "POST", "/v1/campaigns", "", `{"campaign": {"id": "c1", "template": {"name": "t", "language": {"code": "en"}}}, "recipients": [{"to": "447700900001"}]}`)
	require.Equal(t, http.StatusAccepted, ok.code, ok.raw)
	ok = b.do(t, "POST", "/v1/campaigns/c1/cancel", "", "")
	require.Equal(t, http.StatusOK, ok.code, ok.raw)
	for _, tc := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"GET", "/v1/campaigns/nope", "", http.StatusNotFound, "campaign nope not found"},
		{"POST", "/v1/campaigns/nope/pause", "", http.StatusNotFound, "campaign nope not found"},
		{"POST", "/v1/campaigns/c1/pause", "", http.StatusConflict, "campaign c1 is cancelled: it cannot be paused"},
		{"POST", "/v1/campaigns", `{"campaign": {"id": "spring-sale-2026", "template": {"name": "other", "language": {"code": "pt_BR"}}}}`,
			http.StatusConflict, "a different campaign with the id spring-sale-2026 exists: choose another id"},
		{"POST", "/v1/campaigns", `{"campaign": {"id": "c2", "sender": "nope", "template": {"name": "t", "language": {"code": "en"}}}}`,
			http.StatusBadRequest, `sender "nope" is not configured in any worker (known: default)`},
		{"GET", "/v1/campaigns/spring-sale-2026/recipients/447700900099", "", http.StatusNotFound, "campaign spring-sale-2026 has no recipient 447700900099"},
		{"POST", "/v1/campaigns/spring-sale-2026/test", `{"to": "x"}`, http.StatusBadRequest, `to: "x" is not a phone number: unexpected 'x'`},
		{"POST", "/v1/campaigns/c1/recipients", `{"to": "447700900002"}`, http.StatusConflict, "campaign c1 is cancelled"},
		{"DELETE", "/v1/suppressions/" + fixtureWABA + "/nope", "", http.StatusBadRequest, `"nope" is not a phone number: unexpected 'n'`},
		{"DELETE", "/v1/suppressions/999/441234567890", "", http.StatusNotFound, `scope "999" has no suppression list`},
		{"GET", "/v1/suppressions?scope=999", "", http.StatusNotFound, `scope "999" has no suppression list`},
		{"POST", "/v1/suppressions?sender=nope", "to\n441234567890\n", http.StatusNotFound, "sender nope is not published by any worker"},
		{"POST", "/v1/suppressions?sender=nope&scope=1", "to\n441234567890\n", http.StatusBadRequest,
			"name the suppression list by its scope or by its sender, not both (scope 1, sender nope)"},
		{"POST", "/v1/suppressions?scope=" + fixtureWABA, "phone\n441234567890\n", http.StatusBadRequest, `line 1: the header has no column "to" (want to,reason)`},
	} {
		ct := ""
		switch {
		case tc.path == "/v1/campaigns/c1/recipients":
			ct = "application/x-ndjson"
		case tc.method == "POST" && strings.HasPrefix(tc.path, "/v1/suppressions"):
			ct = "text/csv"
		}
		a := b.do(t, tc.method, tc.path, ct, tc.body)
		require.Equal(t, tc.code, a.code, "%s %s: %s", tc.method, tc.path, a.raw)
		require.Equal(t, tc.want, a.body["error"], "%s %s", tc.method, tc.path)
	}
}
