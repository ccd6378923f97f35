package mmapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/stretchr/testify/require"
)

// TestSend_RedirectNotFollowed: an answer 307 or 308 from the API's host
// (a hostile or misconfigured upstream, a moved endpoint) would have Go's
// client POST the message again, with its D360-API-KEY (not a header Go
// drops on a redirect to another host), wherever the Location says. It is
// not followed: the key and the message go to the configured base URL
// only, and the answer pauses the campaign (every send would meet it).
func TestSend_RedirectNotFollowed(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1) // with the key, and the message again
		w.WriteHeader(http.StatusOK)
	}))
	defer other.Close()
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/steal", code)
		}))
		hc := srv.Client()
		c := mmapi.NewClient(hc)
		ep := mmapi.Endpoint{Provider: mmapi.Provider360, BaseURL: srv.URL, Key: "k-360"}
		_, err := c.Send(context.Background(), ep, mmapi.NewMessage("441234567890", mmapi.Template{Name: "t", Language: mmapi.Language{Code: "en"}}, nil))
		srv.Close()
		var e *mmapi.Error
		require.ErrorAs(t, err, &e, "HTTP %d", code)
		require.Equal(t, code, e.HTTPStatus)
		require.Equal(t, mmapi.ClassCampaignFatal, e.Class, "HTTP %d", code)
		require.Contains(t, e.Title, "redirect", "HTTP %d", code)
		require.Nil(t, hc.CheckRedirect, "the caller's client is left as it was")
	}
	require.Zero(t, elsewhere.Load(), "a request followed a redirect")
}
