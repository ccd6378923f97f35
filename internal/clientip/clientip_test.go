package clientip_test

import (
	"net/http/httptest"
	"testing"

	"github.com/mmlite/mmlite/internal/clientip"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	p, err := clientip.Parse(" 10.0.0.0/8, 192.0.2.7 ,fd00::/8,::ffff:198.51.100.1,, 10.1.2.3/8, ::ffff:172.16.0.0/108")
	require.NoError(t, err)
	require.Equal(t, "10.0.0.0/8,192.0.2.7/32,fd00::/8,198.51.100.1/32,10.0.0.0/8,172.16.0.0/12", p.String())
	p, err = clientip.Parse("")
	require.NoError(t, err)
	require.True(t, p.Empty())

	for in, want := range map[string]string{
		"10.0.0.0/33":          `item 1, "10.0.0.0/33", is not a CIDR prefix such as 10.0.0.0/8`,
		"10.0.0.1, proxy.lan":  `item 2, "proxy.lan", is not an IP address such as 10.0.0.5 or a CIDR prefix such as 10.0.0.0/8`,
		"fe80::1%eth0":         `item 1, "fe80::1%eth0", is not an IP address`,
		"10.0.0.1,,10.0.0.300": `item 3, "10.0.0.300"`,
		"::ffff:0:0/95":        `item 1, "::ffff:0:0/95", reaches past the IPv4-mapped addresses`,
	} {
		_, err := clientip.Parse(in)
		require.ErrorContains(t, err, want, in)
	}
}

// The client is the connection's address unless a trusted proxy connected;
// then X-Forwarded-For is read from the right, past trusted proxies, so
// that an address a client writes there itself is never taken.
func TestOf(t *testing.T) {
	t.Parallel()
	p, err := clientip.Parse("10.0.0.0/8, 2001:db8:ffff::/48")
	require.NoError(t, err)
	mapped, err := clientip.Parse("::ffff:172.16.0.0/108")
	require.NoError(t, err)
	for _, c := range []struct {
		remote string
		xff    []string
		proxy  clientip.Proxies
		want   string
	}{
		{"192.0.2.7:4000", nil, p, "192.0.2.7"},
		{"192.0.2.7:4000", []string{"203.0.113.9"}, p, "192.0.2.7"},                           // not a proxy: its header is its own
		{"10.0.0.5:4000", []string{"203.0.113.9"}, p, "203.0.113.9"},                          // the proxy's word
		{"10.0.0.5:4000", []string{"198.51.100.66, 203.0.113.9"}, p, "203.0.113.9"},           // the client wrote the first itself
		{"10.0.0.5:4000", []string{"198.51.100.66, 203.0.113.9, 10.0.0.9"}, p, "203.0.113.9"}, // two proxies
		{"10.0.0.5:4000", []string{"198.51.100.66", "203.0.113.9"}, p, "203.0.113.9"},         // a header each
		{"10.0.0.5:4000", []string{"10.0.0.7, 10.0.0.9"}, p, "10.0.0.7"},                      // all proxies: the furthest
		{"10.0.0.5:4000", nil, p, "10.0.0.5"},                                                 // no header: the proxy itself
		{"10.0.0.5:4000", []string{"203.0.113.9, garbage"}, p, "10.0.0.5"},                    // cannot tell past that
		{"10.0.0.5:4000", []string{"[2001:db8::1]:5000"}, p, "2001:db8::1"},
		{"[::ffff:10.0.0.5]:4000", []string{"::ffff:203.0.113.9"}, p, "203.0.113.9"},
		{"[2001:db8:ffff::2]:4000", []string{"192.0.2.44"}, p, "192.0.2.44"},
		{"[::ffff:172.16.9.9]:4000", []string{"192.0.2.45"}, mapped, "192.0.2.45"}, // a mapped prefix trusts its IPv4 addresses
		{"10.0.0.5:4000", []string{"203.0.113.9"}, clientip.Proxies{}, "10.0.0.5"}, // none trusted
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		a, host, ok := c.proxy.Of(r)
		require.True(t, ok, c.remote)
		require.Equal(t, c.want, host, "%s %q", c.remote, c.xff)
		require.Equal(t, c.want, a.String())
	}

	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "@"
	a, host, ok := p.Of(r)
	require.False(t, ok)
	require.Equal(t, "@", host)
	require.False(t, a.IsValid())
}
