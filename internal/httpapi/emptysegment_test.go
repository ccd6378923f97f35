package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/stretchr/testify/require"
)

// A /v1 path with an empty segment (an id left out:
// /v1/campaigns//results), or a "." or ".." one, is a JSON 404 that says
// so. It was a 307 to the path cleaned up, with an HTML body: followed, a
// GET of /v1/campaigns//results read the campaign "results" ("campaign
// results not found") and a POST of /v1/campaigns//follow-up was told
// that /v1/campaigns/{id} takes GET.
func TestV1_EmptyPathSegmentIsNotRedirected(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// The api's own listener (mmlite api) too: it served its mux, not its
	// handler.
	srv, err := httpapi.New(httpapi.Config{Producer: b.p, Token: token, Registerer: metrics.NewRegistry()})
	require.NoError(t, err)
	hs, err := srv.Listen("127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ctx, 2*time.Second) }()
	t.Cleanup(func() { cancel(); <-served })
	for _, base := range []string{b.srv.URL, "http://" + hs.Addr()} {
		for _, c := range []struct{ method, path, body string }{
			{"GET", "/v1/campaigns//results", ""},
			{"GET", "/v1/campaigns//recipients/447700900001", ""},
			{"GET", "/v1/campaigns/spring-sale-2026/recipients//", ""},
			{"POST", "/v1/campaigns//follow-up", `{"id": "fu", "statuses": ["failed"]}`},
			{"POST", "/v1/campaigns//test", `{"to": "447700900001"}`},
			{"POST", "/v1/campaigns//pause", ""},
			{"GET", "/v1/campaigns/./results", ""},
			{"GET", "/v1/campaigns/spring-sale-2026/../spring-sale-2026/results", ""},
			{"DELETE", "/v1/suppressions//447700900001", ""},
		} {
			req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
			require.NoError(t, err)
			req.URL.Opaque = c.path // sent as written, not cleaned by the client
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := noFollow.Do(req)
			require.NoError(t, err)
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s %s: %s", c.method, c.path, raw)
			require.Empty(t, resp.Header.Get("Location"), c.path)
			var e struct{ Error string }
			require.NoError(t, json.Unmarshal(raw, &e), "%s: %s", c.path, raw)
			require.Equal(t, "no such endpoint: "+c.method+" "+c.path+`: a part of the path is empty, "." or "..": is an id missing?`, e.Error)
		}
	}
	a := b.do(t, "GET", "/v1/campaigns/spring-sale-2026/results", "", "")
	require.Equal(t, http.StatusOK, a.code, "a clean path is served as before")
}
