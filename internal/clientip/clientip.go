package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the proxies trusted to say whom they forward; the zero value
// trusts none.
type Proxies struct {
	nets []netip.Prefix
}

// Parse reads a comma-separated list of IP addresses and CIDR prefixes
// (10.0.0.0/8, 192.0.2.7, fd00::/8). An empty list trusts no proxy.
func Parse(s string) (Proxies, error) {
	var p Proxies
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.Contains(item, "/") {
			n, err := netip.ParsePrefix(item)
			if err != nil || n.Addr().Zone() != "" {
				return Proxies{}, fmt.Errorf("item %d, %q, is not a CIDR prefix such as 10.0.0.0/8", i+1, item)
			}
			if n.Addr().Is4In6() { // the addresses are read unmapped: so is the prefix
				if n.Bits() < 96 {
					return Proxies{}, fmt.Errorf("item %d, %q, reaches past the IPv4-mapped addresses (::ffff:0:0/96): name the IPv4 prefix", i+1, item)
				}
				n = netip.PrefixFrom(n.Addr().Unmap(), n.Bits()-96)
			}
			p.nets = append(p.nets, n.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil || a.Zone() != "" {
			return Proxies{}, fmt.Errorf("item %d, %q, is not an IP address such as 10.0.0.5 or a CIDR prefix such as 10.0.0.0/8", i+1, item)
		}
		a = a.Unmap()
		p.nets = append(p.nets, netip.PrefixFrom(a, a.BitLen()))
	}
	return p, nil
}

// String lists the proxies as Parse reads them.
func (p Proxies) String() string {
	s := make([]string, len(p.nets))
	for i, n := range p.nets {
		s[i] = n.String()
	}
	return strings.Join(s, ",")
}

// Empty says no proxy is trusted.
func (p Proxies) Empty() bool { return len(p.nets) == 0 }

func (p Proxies) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// Of is the client of r: the connection's address, unless that is a
// trusted proxy; then X-Forwarded-For is read from its right end (the
// address the last proxy was reached from) leftwards, past the trusted
// proxies, and the first address that is not one is the client. When
// every address there is a trusted proxy, the leftmost is. An entry that
// is not an address stops the reading: the client is the last trusted
// proxy reached, as what lies beyond it cannot be told. ok is false when
// the connection's address itself is not an IP address (a Unix socket):
// then addr is zero and host is what r.RemoteAddr holds.
func (p Proxies) Of(r *http.Request) (addr netip.Addr, host string, ok bool) {
	host = r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, host, false
	}
	a = a.WithZone("").Unmap()
	if !p.trusted(a) {
		return a, a.String(), true
	}
	hops := forwarded(r.Header.Values("X-Forwarded-For"))
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(hops[i])
		if err != nil {
			break
		}
		a = h.WithZone("").Unmap()
		if !p.trusted(a) {
			break
		}
	}
	return a, a.String(), true
}

// forwarded splits X-Forwarded-For's values (a proxy may add a header of
// its own rather than append to the last) into their addresses, left to
// right; an address may come as [v6]:port or v4:port.
func forwarded(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, h := range strings.Split(v, ",") {
			h = strings.TrimSpace(h)
			if host, _, err := net.SplitHostPort(h); err == nil {
				h = host
			}
			out = append(out, strings.Trim(h, "[]"))
		}
	}
	return out
}
