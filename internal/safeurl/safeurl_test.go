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

func TestHosts(t *testing.T) {
	t.Parallel()
	h, err := safeurl.ParseHosts(" CRM.example.com, 127.0.0.1:8080,, [::1]:9 ")
	require.NoError(t, err)
	require.Equal(t, safeurl.Hosts{"crm.example.com", "127.0.0.1:8080", "[::1]:9"}, h)
	for _, ok := range []string{"https://crm.example.com/h", "https://Crm.Example.com:8443/h", "http://127.0.0.1:8080/cb", "http://[::1]:9/x"} {
		require.NoError(t, h.Allow(ok), ok)
	}
	for raw, want := range map[string]string{
		"http://127.0.0.1:8081/cb":                "host 127.0.0.1:8081 is not one of MMLITE_CALLBACK_HOSTS (crm.example.com, 127.0.0.1:8080, [::1]:9)",
		"https://crm.example.com.evil/h":          "host crm.example.com.evil is not one of",
		"https://evil.example/?u=crm.example.com": "host evil.example is not one of",
		"http://crm.example.com/h":                "want https://",
	} {
		require.ErrorContains(t, h.Allow(raw), want, raw)
	}
	require.ErrorContains(t, safeurl.Hosts(nil).Allow("https://crm.example.com/h"), "no host is (MMLITE_CALLBACK_HOSTS)")
	_, err = safeurl.ParseHosts("crm.example.com/path")
	require.ErrorContains(t, err, `"crm.example.com/path" is not a host or host:port`)
	require.Equal(t, "crm.example.com:8443", safeurl.HostOf("https://user:pw@CRM.example.com:8443/r?x=1"))
}
