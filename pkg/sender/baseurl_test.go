package sender_test

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/stretchr/testify/require"
)

// A base_url whose password has an unescaped '/' (https://u:12/34@host)
// parses as host u, port 12: it was accepted, and every message would
// have gone to host "u". It is refused, as such a destination URL is,
// quoting nothing of the password (found in review).
func TestLoad_BaseURLCutShortByAPassword(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"https://u:12/s3cret@api.example.com",
		"https://u:12/s3cret@api.example.com/v1",
		"https://:12/s3cret@api.example.com",
	} {
		_, err := sender.Load(sender.Options{Key: "k", BaseURL: raw})
		require.Error(t, err, raw)
		require.ErrorContains(t, err, "base_url has an '@' in its path", raw)
		require.ErrorContains(t, err, "a password with /, ? or # in it is written %2F, %3F, %23", raw)
		require.NotContains(t, err.Error(), "s3cret", raw)
	}
	_, err := sender.Load(sender.Options{Key: "k", BaseURL: "https://u:p%2Fw@api.example.com/v1"})
	require.NoError(t, err, "escaped, it is the password it says")
}

// A sender's log value showed base_url whole: a base URL with credentials
// in it put them in the logs (found in review). It is shown redacted.
func TestSender_LogValueRedactsBaseURL(t *testing.T) {
	t.Parallel()
	ss, err := sender.Load(sender.Options{Key: "k", BaseURL: "https://user:s3cret@api.example.com/v1"})
	require.NoError(t, err)
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("sender", "sender", ss[0])
	require.NotContains(t, buf.String(), "s3cret")
	require.Contains(t, buf.String(), "api.example.com/v1")
}
