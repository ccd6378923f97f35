package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// A webhook's answer is what writeJSON would write of it.
func TestReceived_WritesWhatWriteJSONWrites(t *testing.T) {
	t.Parallel()
	for _, rc := range []received{{}, {Statuses: 1}, {Statuses: 12, Clicks: 3, AccountUpdates: 1045}} {
		want, got := httptest.NewRecorder(), httptest.NewRecorder()
		writeJSON(want, http.StatusOK, rc)
		rc.write(got)
		require.Equal(t, want.Code, got.Code)
		require.Equal(t, want.Header(), got.Header())
		require.Equal(t, want.Body.String(), got.Body.String())
	}
}
