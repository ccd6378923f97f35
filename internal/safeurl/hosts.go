package safeurl

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Hosts are the hosts a URL given by a client (a campaign's callback_url)
// may name, so that a token holder cannot have mmlite POST to any address
// it reaches (its own ports, the network behind it). An entry is a host
// ("crm.example.com": any port) or a host and port ("127.0.0.1:8080",
// "[::1]:9"; a URL without a port names its scheme's, 443 or 80). Hosts
// are ASCII (an international name in its xn-- form), compared without
// case.
type Hosts []string

// ParseHosts reads a comma-separated list of hosts; blanks are ignored.
func ParseHosts(list string) (Hosts, error) {
	var h Hosts
	for e := range strings.SplitSeq(list, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		host, port, err := net.SplitHostPort(e)
		if err != nil { // no port
			host, port = strings.TrimSuffix(strings.TrimPrefix(e, "["), "]"), ""
		}
		if !validHost(host) || port != "" && !validPort(port) {
			return nil, fmt.Errorf("%q is not a host or host:port", e)
		}
		h = append(h, entry(host, port))
	}
	return h, nil
}

// HostOf is the host and port of an absolute URL (its scheme's port when
// it names none), for a list that allows that URL's address only.
func HostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return entry(u.Hostname(), portOf(u))
}

// Allow checks raw with Check and says whether its host is one of h.
func (h Hosts) Allow(raw string) error {
	if err := Check(raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	name := u.Hostname()
	if !validHost(name) {
		return fmt.Errorf("host %q is not allowed: write an international name in its xn-- form", name)
	}
	port := portOf(u)
	for _, e := range h {
		if e == entry(name, "") || e == entry(name, port) {
			return nil
		}
	}
	return fmt.Errorf("host %s is not allowed (MMLITE_CALLBACK_HOSTS)", entry(name, port))
}

// entry is a list entry: the host in lower case, with the port when there
// is one (IPv6 bracketed then).
func entry(host, port string) string {
	host = strings.ToLower(host)
	if port == "" {
		return host
	}
	return net.JoinHostPort(host, port)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "http" {
		return "80"
	}
	return "443"
}

// validHost accepts a DNS name in ASCII (letters, digits, '-', '.', '_')
// or an IP address.
func validHost(h string) bool {
	if h == "" {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n < 65536
}
