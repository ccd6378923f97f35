package demo

import (
	"testing"

	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/stretchr/testify/require"
)

// The demo's last line counted the fake API's 502s (an HTML page, no
// provider code: an outcome mmlite cannot know) among the "transient errors
// retried", where its own table above reports those recipients unknown and
// they are never sent again (docs/errors.md, "ambiguous"): "19 transient
// errors retried (131000, 502)" for 15 retried and 4 unknown. It says which
// were retried and which were not.
func TestFakeLine_502IsUnknownNotRetried(t *testing.T) {
	t.Parallel()
	got := fakeLine(fakeapi.Stats{Requests: 315, Accepted: 294, ByCode: map[string]int64{"131000": 15, "http_502": 4, "131026": 1, "131050": 1}})
	require.Equal(t, "the fake API saw 315 requests: 294 accepted, 15 transient errors retried (131000), "+
		"4 answers 502 without the provider's code (outcome unknown: not sent again); recipients sent more than once: 0", got)
}
