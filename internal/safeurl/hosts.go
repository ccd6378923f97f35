package safeurl

import (
	"fmt"
	"net/url"
	"strings"
)

// Hosts are the hosts a URL given by a client (a campaign's callback_url)
// may name, so that a token holder cannot have mmlite POST to any address
// it reaches (its own ports, the network behind it). An entry is a host
// ("crm.example.com": any port) or a host and port ("127.0.0.1:8080").
type Hosts []string

// ParseHosts reads a comma-separated list of hosts; blanks are ignored.
func ParseHosts(list string) (Hosts, error) {
	var h Hosts
	for e := range strings.SplitSeq(list, ",") {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" {
			continue
		}
		if strings.ContainsAny(e, "/?#@ ") {
			return nil, fmt.Errorf("%q is not a host or host:port", e)
		}
		h = append(h, e)
	}
	return h, nil
}

// HostOf is the host (and port, when it has one) of an absolute URL, for
// a list that allows the URL itself.
func HostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// Allow checks raw with Check and says whether its host is one of h.
func (h Hosts) Allow(raw string) error {
	if err := Check(raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	host, name := strings.ToLower(u.Host), strings.ToLower(u.Hostname())
	for _, e := range h {
		if e == host || e == name {
			return nil
		}
	}
	if len(h) == 0 {
		return fmt.Errorf("host %s is not allowed: no host is (MMLITE_CALLBACK_HOSTS)", host)
	}
	return fmt.Errorf("host %s is not one of MMLITE_CALLBACK_HOSTS (%s)", host, strings.Join(h, ", "))
}
