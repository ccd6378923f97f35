package safeurl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
)

// Check accepts an https:// URL, or an http:// one on a loopback address
// (tests, a sidecar): anything else would carry webhooks and signatures in
// clear text.
func Check(raw string) error {
	u, err := url.Parse(raw)
	var ue *url.Error
	switch {
	case errors.As(err, &ue) && unbracketedIPv6(raw):
		// url.Parse takes what follows its first ':' for a port, and
		// portNotNumber would blame a password.
		return errors.New("want an absolute https:// URL, got one that does not parse: its host looks like an IPv6 address, " +
			"which is written in brackets (https://[2001:db8::1]/hook, with a port https://[2001:db8::1]:8443/hook)")
	case errors.As(err, &ue) && portNotNumber(raw):
		// url.Parse would quote what it took for a port: often the
		// password, cut short by a '/', '?' or '#' in it.
		return errors.New("want an absolute https:// URL, got one that does not parse: the port after its host is not a number " +
			"(a password with /, ? or # in it is written %2F, %3F, %23)")
	case errors.As(err, new(url.EscapeError)):
		// url.Parse would quote the '%' and the two bytes after it: a
		// piece of the password, often.
		return errors.New("want an absolute https:// URL, got one that does not parse: " +
			"a '%' not followed by two hex digits (a '%' itself, in a password say, is written %25)")
	case errors.As(err, &ue): // its own words, without the URL it quotes
		return fmt.Errorf("want an absolute https:// URL, got one that does not parse: %w", ue.Err)
	case err == nil && CutShort(raw, u) != nil:
		return fmt.Errorf("want an absolute https:// URL, got one with %w", CutShort(raw, u))
	case err != nil || u.Host == "":
		return fmt.Errorf("want an absolute https:// URL, got %q", Redact(raw))
	case strings.Contains(raw, " "):
		// Pasted with one: its POSTs would go to a path ending in %20,
		// or break their request line (in the query).
		return fmt.Errorf("a space in the URL, at byte %d of %d: write one as %%20", strings.Index(raw, " ")+1, len(raw))
	case u.Hostname() == "": // a port alone: every POST would fail, retried for days
		return fmt.Errorf("want an absolute https:// URL with a host, got %q", Redact(raw))
	case u.Port() != "" && !validPort(u.Port()):
		// Every POST would fail, retried for days.
		return fmt.Errorf("port %s is out of range (1 to 65535)", u.Port())
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("want https:// (http:// only on a loopback address), got %q", Redact(raw))
}

// atAfterHost says where u has an '@' after its host: in its path, or
// in its query or fragment when it has no path. url.Parse ends the host
// at the first '/', '?' or '#', so a password of digits with one of them
// in it (https://u:12/34@h/x) parses as host u, port 12, and the POSTs
// would go to u. An '@' meant in a path is refused too, for the text
// cannot say which was meant and %40 says it without doubt; one in a
// query after a path is a query's (?email=a@b.c): a password's '?' would
// have ended the host before any path.
func atAfterHost(u *url.URL) string {
	switch path := u.EscapedPath(); {
	case strings.Contains(path, "@"):
		return "path"
	case path == "" && strings.Contains(u.RawQuery+u.EscapedFragment(), "@"):
		return "query"
	}
	return ""
}

// CutShort says, for raw parsed as u, when its host may have been ended
// early by a password (see atAfterHost), quoting nothing of raw: "an '@'
// in its path, as when ...: its POSTs would go to the wrong host (...)".
func CutShort(raw string, u *url.URL) error {
	if u.User != nil || !strings.Contains(raw, "//") {
		return nil
	}
	got := ""
	switch where := atAfterHost(u); where {
	case "":
		return nil
	case "query":
		got = "an '@' in its query or fragment and no path, as when a '?' or '#' in a password ends the host early"
	default:
		got = "an '@' in its path, as when a '/' in a password ends the host early"
	}
	return errors.New(got + ": its POSTs would go to the wrong host " +
		"(a password with /, ? or # in it is written %2F, %3F, %23; an '@' in the " + atAfterHost(u) + " itself %40)")
}

// portNotNumber says whether what url.Parse takes for raw's port (after
// the host, in what comes before the first '/', '?' or '#') holds
// anything but digits.
func portNotNumber(raw string) bool {
	auth := hostPort(raw)
	if i := strings.LastIndex(auth, "]"); i >= 0 { // an IPv6 address
		auth = auth[i+1:]
	}
	i := strings.LastIndex(auth, ":")
	return i >= 0 && strings.Trim(auth[i+1:], "0123456789") != ""
}

// unbracketedIPv6 says whether raw's host and port, as url.Parse finds
// them, are an IPv6 address without its brackets (2001:db8::1, ::1:8080,
// fe80::1%eth0). A password with a ':' and a '/' in it
// (u:se:cret/x@h) is none: u:se:cret is no address.
func unbracketedIPv6(raw string) bool {
	host := hostPort(raw)
	if i := strings.Index(host, "%"); i >= 0 { // a zone
		host = host[:i]
	}
	return !strings.Contains(host, "[") && strings.Count(host, ":") >= 2 && net.ParseIP(host) != nil
}

// hostPort is what url.Parse takes for raw's host and port: what lies
// after its credentials (up to the last '@') and before the first '/',
// '?' or '#' after its scheme.
func hostPort(raw string) string {
	_, auth, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(auth, "/?#"); i >= 0 {
		auth = auth[:i]
	}
	if i := strings.LastIndex(auth, "@"); i >= 0 {
		auth = auth[i+1:]
	}
	return auth
}

// InClear says whether raw is a plain http:// URL to a host other than
// loopback (what it carries crosses the network in clear text), and
// names the host.
func InClear(raw string) (host string, clear bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || loopback(u.Hostname()) {
		return "", false
	}
	return u.Hostname(), true
}

// OnLoopback says whether raw is a URL to a loopback address (this
// machine: a sidecar, a test).
func OnLoopback(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && loopback(u.Hostname())
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Redact drops a URL's credentials and query, which may hold secrets.
// A URL whose password may be cut short (see credentialsPastHost) shows
// xxxxx@ and what follows its last '@'; one that does not parse is cut as
// text, as by Mask.
func Redact(raw string) string {
	if scheme, tail, ok := credentialsPastHost(raw); ok {
		return hidden(scheme, tail, Redact)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return maskText(raw)
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}

// Mask hides a URL's secrets but keeps what says where it leads, for a
// message about a connection: the password becomes xxxxx, and so does the
// value of every query parameter but those named in keep (a query may
// carry a password: Redis's sentinel_password=); the fragment is dropped.
// A URL that does not parse is cut as text instead: what may be its
// credentials (up to its last '@') and its query (from its first '?' or
// '#') are not shown. Nor is what precedes the last '@' of a URL whose
// password may be cut short (see credentialsPastHost).
func Mask(raw string, keep ...string) string {
	if scheme, tail, ok := credentialsPastHost(raw); ok {
		return hidden(scheme, tail, func(s string) string { return Mask(s, keep...) })
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return maskText(raw)
	case u.Opaque != "":
		return u.Scheme + ":(not shown)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k, vs := range q {
			if !slices.Contains(keep, k) {
				for i := range vs {
					vs[i] = "xxxxx"
				}
			}
		}
		u.RawQuery = q.Encode()
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// credentialsPastHost says whether raw has an '@' after what url.Parse
// takes for its host, which is what a password with an unescaped '/', '?'
// or '#' looks like: redis://u:12/34@h:6379/0 parses as host u, port 12 (the
// password's digits) and path /34@h:6379/0. The credentials then end at
// the last '@', and tail is what follows it; when that '@' is in a query
// or fragment after a path, tail is empty: the text cannot say where the
// host is. One case is left to url.Parse, for it cannot hold a password:
// an '@' in a query or fragment after a path (https://h/x?email=a@b.c)
// with no ':' before it that could start one (a user's, or the port a
// password's digits were taken for); an IPv6 address's do not count.
func credentialsPastHost(raw string) (scheme, tail string, ok bool) {
	scheme, rest, found := strings.Cut(raw, "://")
	at, end := strings.LastIndex(rest, "@"), strings.IndexAny(rest, "/?#")
	if !found || !validScheme(scheme) || at < 0 || end < 0 || at < end {
		return "", "", false
	}
	q := strings.IndexAny(rest, "?#")
	if rest[end] == '/' && q >= 0 && at > q && !strings.Contains(rest[end:q], "@") {
		if !strings.Contains(unbracketed(rest[:at]), ":") {
			return "", "", false
		}
		return scheme, "", true
	}
	return scheme, rest[at+1:], true
}

// unbracketed is s without what lies in brackets ([2001:db8::1]).
func unbracketed(s string) string {
	var b strings.Builder
	depth := 0
	for _, c := range s {
		switch {
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// hidden shows a URL whose credentials end at its last '@': xxxxx@ and
// tail as show shows scheme://tail, or nothing of it when tail is empty.
func hidden(scheme, tail string, show func(string) string) string {
	shown, ok := strings.CutPrefix(show(scheme+"://"+tail), scheme+"://")
	if tail == "" || !ok || strings.HasPrefix(shown, "(not shown)") {
		return scheme + "://(not shown)"
	}
	return scheme + "://xxxxx@" + strings.TrimPrefix(shown, "xxxxx@")
}

// maskText is Mask for a URL that does not parse: it shows the scheme and
// what lies between the credentials and the query, when they do not
// overlap.
func maskText(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !validScheme(scheme) {
		return "(unparsable)"
	}
	end := len(rest)
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		end = i
	}
	start, cred := 0, ""
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		start, cred = i+1, "xxxxx@"
	}
	if start > end {
		return scheme + "://(not shown)"
	}
	return scheme + "://" + cred + rest[start:end]
}

func validScheme(s string) bool {
	for i, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}
