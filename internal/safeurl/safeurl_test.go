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
		// An '@' after the host: a password's digits taken for a port.
		"https://u:12/34@crm.example.com/x": "an '@' in its path",
		"https://u:12?34@crm.example.com/x": "an '@' in its query or fragment and no path",
		// An '@' in a path is refused too, saying how to write it.
		"https://crm.example.com/users/@me": "an '@' in the path itself %40",
		// An IPv6 address goes in brackets.
		"https://2001:db8::1/hook": "its host looks like an IPv6 address, which is written in brackets",
		"http://::1:8080/x":        "its host looks like an IPv6 address, which is written in brackets",
		// Later in a query, after a path, it is a query's.
		"https://crm.example.com/x?email=a@b.c":      "",
		"https://u:p%2Fw@crm.example.com/x?to=a@b.c": "",
		"https://crm.example.com/users/%40me":        "",
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

func TestMask(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"redis://u:pw@h:1/0": "redis://u:xxxxx@h:1/0",
		"redis://h:1/0?master=m&sentinel_password=s&Tls=1": "redis://h:1/0?Tls=xxxxx&master=m&sentinel_password=xxxxx",
		"redis://h:1/0#frag": "redis://h:1/0",
		// Not a URL: what may be credentials or a query is cut off as text.
		"redis://u:s%zz@h:1/0":             "redis://xxxxx@h:1/0",
		"redis://u:a?b@h:1/0%zz":           "redis://xxxxx@h:1/0%zz",
		"redis://h:1/0?master=m&p=a@b#%zz": "redis://(not shown)",
		"redis://h:1/%zz?p=s":              "redis://h:1/%zz",
		"u:s%zz@h":                         "u:(not shown)",
		"s%zz://h":                         "(unparsable)",
	} {
		require.Equal(t, want, safeurl.Mask(raw, "master"), raw)
	}
}

func TestHosts(t *testing.T) {
	t.Parallel()
	h, err := safeurl.ParseHosts(" CRM.example.com, 127.0.0.1:8080,, [::1]:9, [fd00::7] ")
	require.NoError(t, err)
	require.Equal(t, safeurl.Hosts{"crm.example.com", "127.0.0.1:8080", "[::1]:9", "fd00::7"}, h)
	for _, ok := range []string{"https://crm.example.com/h", "https://Crm.Example.com:8443/h", "http://127.0.0.1:8080/cb",
		"http://[::1]:9/x", "https://[fd00::7]:8443/x"} {
		require.NoError(t, h.Allow(ok), ok)
	}
	for raw, want := range map[string]string{
		"http://127.0.0.1:8081/cb":                "host 127.0.0.1:8081 is not allowed (MMLITE_CALLBACK_HOSTS)",
		"http://127.0.0.1/cb":                     "host 127.0.0.1:80 is not allowed",
		"https://crm.example.com.evil/h":          "host crm.example.com.evil:443 is not allowed",
		"https://crm.example.com./h":              "host crm.example.com.:443 is not allowed",
		"https://evil.example/?u=crm.example.com": "host evil.example:443 is not allowed",
		"http://crm.example.com/h":                "want https://",
		"https://crm.exampİe.com/h":               "write an international name in its xn-- form",
	} {
		require.ErrorContains(t, h.Allow(raw), want, raw)
	}
	require.ErrorContains(t, safeurl.Hosts(nil).Allow("https://crm.example.com/h"), "host crm.example.com:443 is not allowed")
	for _, bad := range []string{"crm.example.com/path", "*", "crm.example.com:abc", "crm.example.com:0", "https://crm.example.com"} {
		_, err = safeurl.ParseHosts(bad)
		require.ErrorContains(t, err, "is not a host or host:port", bad)
	}

	// A URL's own host allows that URL's port only, its scheme's when it
	// names none.
	only := safeurl.Hosts{safeurl.HostOf("http://localhost/r")}
	require.Equal(t, safeurl.Hosts{"localhost:80"}, only)
	require.NoError(t, only.Allow("http://localhost/cb"))
	require.NoError(t, only.Allow("http://localhost:80/cb"))
	require.ErrorContains(t, only.Allow("http://localhost:9090/metrics"), "host localhost:9090 is not allowed")
	require.Equal(t, "crm.example.com:8443", safeurl.HostOf("https://user:pw@CRM.example.com:8443/r?x=1"))
	require.Equal(t, "[::1]:443", safeurl.HostOf("https://[::1]/r"))
}

// A password with an unescaped '/', '?' or '#' ends the host early
// (redis://u:12/34@h:6379/0 parses as host u, port 12): the URL came out
// whole, or its "host" and "port", pieces of the password. What precedes
// the last '@' is never shown then.
func TestMaskRedact_HideAPasswordCutShort(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string][2]string{ // Mask, Redact
		"redis://u:12/34@h:6379/0":                    {"redis://xxxxx@h:6379/0", "redis://xxxxx@h:6379/0"},
		"redis://:12/34@h:6379/0":                     {"redis://xxxxx@h:6379/0", "redis://xxxxx@h:6379/0"},
		"redis://u:12?34@h/0":                         {"redis://xxxxx@h/0", "redis://xxxxx@h/0"},
		"redis://u:12#34@h/0":                         {"redis://xxxxx@h/0", "redis://xxxxx@h/0"},
		"redis://u:12/3?4@h/0":                        {"redis://(not shown)", "redis://(not shown)"},
		"redis://u:p@ss/wo@rd@h/0":                    {"redis://xxxxx@h/0", "redis://xxxxx@h/0"},
		"redis://u:12/34@h:6379/0?master=m&tls=true":  {"redis://xxxxx@h:6379/0?master=m&tls=xxxxx", "redis://xxxxx@h:6379/0"},
		"redis-sentinel://:12/34@h:1,h2:2/0?master=m": {"redis-sentinel://xxxxx@h:1,h2:2/0?master=m", "redis-sentinel://xxxxx@h:1,h2:2/0"},
		"redis-cluster://u:12/34@h:1,h:2":             {"redis-cluster://xxxxx@h:1,h:2", "redis-cluster://xxxxx@h:1,h:2"},
		"https://u:12/34@crm.example.com/x?a=b":       {"https://xxxxx@crm.example.com/x?a=xxxxx", "https://xxxxx@crm.example.com/x"},
		"rediss://user:abc#def@h":                     {"rediss://xxxxx@h", "rediss://xxxxx@h"},
		"redis://u:s3/cr%zz@h:1/0":                    {"redis://xxxxx@h:1/0", "redis://xxxxx@h:1/0"},
		// An '@' in a query after a path is the query's, unless a ':'
		// before it may start a password (a port, a user's).
		"https://crm.example.com/x?email=a@b.c": {"https://crm.example.com/x?email=xxxxx", "https://crm.example.com/x"},
		"https://[::1]/x?email=a@b.c":           {"https://[::1]/x?email=xxxxx", "https://[::1]/x"},
		// Not knowing where the credentials end, nothing is shown.
		"https://crm.example.com:1/x?email=a@b.c":    {"https://(not shown)", "https://(not shown)"},
		"https://u:pw@crm.example.com/x?email=a@b.c": {"https://(not shown)", "https://(not shown)"},
		"https://u/x:pw?y@crm.example.com/x":         {"https://(not shown)", "https://(not shown)"},
		// Ordinary URLs are as before.
		"redis://u:pw@h:1/0":                {"redis://u:xxxxx@h:1/0", "redis://h:1/0"},
		"https://crm.example.com/h?token=x": {"https://crm.example.com/h?token=xxxxx", "https://crm.example.com/h"},
	} {
		require.Equal(t, want[0], safeurl.Mask(raw, "master"), "Mask(%s)", raw)
		require.Equal(t, want[1], safeurl.Redact(raw), "Redact(%s)", raw)
	}
}
