package console

import (
	"crypto/tls"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/clientip"
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

// The login limiter forgets idle clients and remembers at most its bound;
// attempts in flight cannot spend more than a client has.
func TestLoginLimiter(t *testing.T) {
	t.Parallel()
	l := newLoginLimiter(3)
	now := time.Unix(1_700_000_000, 0)
	var dones []func(bool, time.Time)
	for range loginBurst { // all in flight at once
		done, wait := l.begin("a", now)
		require.Zero(t, wait)
		dones = append(dones, done)
	}
	_, wait := l.begin("a", now)
	require.Equal(t, loginEvery, wait, "the burst is held by the attempts in flight")
	dones[0](false, now) // a login that succeeded gives its token back
	done, wait := l.begin("a", now)
	require.Zero(t, wait)
	dones = append(dones[1:], done)
	for _, done := range dones {
		done(true, now)
	}
	_, wait = l.begin("a", now)
	require.Equal(t, loginEvery, wait)
	done, wait = l.begin("a", now.Add(loginEvery))
	require.Zero(t, wait, "one more after loginEvery")
	done(true, now.Add(loginEvery))

	for i, c := range []string{"b", "c", "d", "e"} {
		done, _ := l.begin(c, now.Add(loginEvery+time.Duration(i+1)*time.Second))
		done(true, now)
		require.LessOrEqual(t, len(l.clients), 3)
	}
	require.Equal(t, []string{"c", "d", "e"}, slices.Sorted(maps.Keys(l.clients)), "the clients that tried longest ago go first")
	l.begin("f", now.Add(loginEvery+loginIdle+time.Minute))
	require.Equal(t, []string{"f"}, slices.Collect(maps.Keys(l.clients)), "idle clients are forgotten")
}

// A client is the connection's address, never a header; an IPv6 one is
// its /64.
func TestLoginClientOf(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"192.0.2.7:4000":                 "192.0.2.7",
		"[::ffff:192.0.2.7]:4000":        "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:4000":    "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1%eth0]:40": "2001:db8:1:2::/64",
		"@":                              "@",
	} {
		r := httptest.NewRequest("POST", "/ui/login", nil)
		r.RemoteAddr = addr
		r.Header.Set("X-Forwarded-For", "203.0.113.9")
		require.Equal(t, want, loginClientOf(r, clientip.Proxies{}), addr)
	}
}
