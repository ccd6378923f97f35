package safeurl_test

import (
	"testing"

	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"https://crm.example.com/h", "http://127.0.0.1:8080/h", "http://localhost/h", "http://[::1]:9/h", "http://127.3.4.5/h"} {
		require.NoError(t, safeurl.Check(ok), ok)
	}
	for raw, want := range map[string]string{
		"http://crm.example.com/h":           "want https://",
		"http://10.0.0.1/h?token=secret":     `got "http://10.0.0.1/h"`,
		"ftp://127.0.0.1/h":                  "want https://",
		"/relative":                          "want an absolute https:// URL",
		"https://user:pw@crm.example.com/h?": "",
	} {
		err := safeurl.Check(raw)
		if want == "" {
			require.NoError(t, err, raw)
			continue
		}
		require.ErrorContains(t, err, want, raw)
		require.NotContains(t, err.Error(), "secret")
	}
	require.Equal(t, "https://crm.example.com/h", safeurl.Redact("https://user:pw@crm.example.com/h?token=x"))
}
