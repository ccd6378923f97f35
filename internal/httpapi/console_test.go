package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/stretchr/testify/require"
)

// The api serves the console at /ui/ unless DisableUI (MMLITE_UI=false).
func TestConsoleMounted(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	resp, err := http.Get(b.srv.URL + "/ui/login")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html"))

	off := setup(t, func(c *httpapi.Config) { c.DisableUI = true })
	resp, err = http.Get(off.srv.URL + "/ui/login")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
