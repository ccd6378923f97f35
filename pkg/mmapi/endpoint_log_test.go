package mmapi_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/stretchr/testify/require"
)

// An endpoint's log value and its String showed its URL whole: a base URL
// with credentials in it (https://user:pw@host) put them in the logs and
// in any error that formats the endpoint (found in review). Both show it
// redacted, the host and path kept.
func TestEndpoint_LogValueAndStringRedactTheURL(t *testing.T) {
	t.Parallel()
	ep := mmapi.Endpoint{Provider: mmapi.ProviderMeta, BaseURL: "https://user:s3cret@graph.example.com/v23.0", PhoneNumberID: "106540352242922", Key: "k"}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("send", "endpoint", ep)
	for _, out := range []string{buf.String(), ep.String(), fmt.Sprint(ep)} {
		require.NotContains(t, out, "s3cret", out)
		require.Contains(t, out, "graph.example.com/v23.0/106540352242922/marketing_messages", out)
	}
	require.Contains(t, ep.URL(), "s3cret", "the URL it sends to is the one configured")
}
