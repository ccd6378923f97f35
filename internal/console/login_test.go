package console

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
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
