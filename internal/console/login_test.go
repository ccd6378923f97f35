package console

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The login page warns when the browser will not keep the Secure cookie.
func TestPlainHTTP(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		host, proto string
		tls         bool
		want        bool
	}{
		{"mmlite.example:8080", "", false, true},
		{"10.0.0.5:8080", "", false, true},
		{"127.0.0.1:8080", "", false, false},
		{"[::1]:8080", "", false, false},
		{"localhost:8080", "", false, false},
		{"mmlite.localhost", "", false, false},
		{"mmlite.example", "https", false, false},
		{"mmlite.example", "", true, false},
	} {
		r := httptest.NewRequest("GET", "/ui/login", nil)
		r.Host = c.host
		if c.proto != "" {
			r.Header.Set("X-Forwarded-Proto", c.proto)
		}
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := plainHTTP(r); got != c.want {
			t.Errorf("plainHTTP(%s, %q, tls %v) = %v, want %v", c.host, c.proto, c.tls, got, c.want)
		}
	}
}

// A session is signed with a key derived from the token and ends at its
// expiry: the cookie holds no token, and an expired, altered or foreign
// session (or the token itself) opens nothing.
func TestSessions(t *testing.T) {
	t.Parallel()
	c := &Console{cfg: Config{Token: "tok-1"}, sessionKey: deriveKey("tok-1", "session")}
	other := &Console{cfg: Config{Token: "tok-2"}, sessionKey: deriveKey("tok-2", "session")}
	with := func(v string) *http.Request {
		r := httptest.NewRequest("GET", "/ui/", nil)
		r.AddCookie(&http.Cookie{Name: cookieName, Value: v})
		return r
	}
	good := c.newSession(time.Now().Add(time.Hour))
	require.Equal(t, good, c.session(with(good)))
	require.NotContains(t, good, "tok-1")
	require.NotEqual(t, good, c.newSession(time.Now().Add(time.Hour)), "each login its own session")

	parts := strings.Split(good, ".")
	later := strconv.FormatInt(time.Now().Add(48*time.Hour).Unix(), 10)
	for name, v := range map[string]string{
		"expired":         c.newSession(time.Now().Add(-time.Second)),
		"expiry changed":  parts[0] + "." + later + "." + parts[2] + "." + parts[3],
		"signature cut":   strings.Join(parts[:3], "."),
		"the token":       "tok-1",
		"another token's": other.newSession(time.Now().Add(time.Hour)),
		"empty":           "",
	} {
		require.Empty(t, c.session(with(v)), name)
	}
}
