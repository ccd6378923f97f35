package outbound_test

import (
	"testing"

	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/stretchr/testify/require"
)

// A destination's URL that could never be POSTed to was accepted (a port
// out of range: every delivery failed, retried for MMLITE_RELAY_MAX_AGE),
// or refused as "(unparsable)" without saying why (a URL pasted with its
// newline), or without a host. All are refused at start, naming the setting and the fault,
// never the URL's credentials.
func TestLoad_SaysWhatIsWrongWithAURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"https://crm.example.com:99999/h":     `MMLITE_WEBHOOK_FORWARD: url: port 99999 is out of range (1 to 65535)`,
		"https://crm.example.com:0/h":         `MMLITE_WEBHOOK_FORWARD: url: port 0 is out of range (1 to 65535)`,
		"https://crm.example.com/h\n":         `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one that does not parse: net/url: invalid control character in URL`,
		" https://u:secret@crm.example.com/h": `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one that does not parse: first path segment in URL cannot contain colon`,
		// A password with a '/', '?' or '#' ends the host early: what
		// url.Parse then takes for a port, and quotes, is the password.
		"https://u:secret/x@crm.example.com/h": `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one that does not parse: the port after its host is not a number (a password with /, ? or # in it is written %2F, %3F, %23)`,
		"https://u:secret#x@crm.example.com/h": `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one that does not parse: the port after its host is not a number (a password with /, ? or # in it is written %2F, %3F, %23)`,
		// A password of digits then an unescaped '/', '?' or '#' parses:
		// its digits as the port of a host made of the user, the rest of
		// it and the real host as path or query. Deliveries would go to
		// host "u"; the error quotes nothing of the URL.
		"https://u:12/secret@crm.example.com/x":  `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one with an '@' in its path, as when a '/' in a password ends the host early: its POSTs would go to the wrong host (a password with /, ? or # in it is written %2F, %3F, %23; an '@' in the path itself %40)`,
		"https://u:/secret@crm.example.com/x":    `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one with an '@' in its path, as when a '/' in a password ends the host early: its POSTs would go to the wrong host (a password with /, ? or # in it is written %2F, %3F, %23; an '@' in the path itself %40)`,
		"https://token/secret@crm.example.com/x": `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one with an '@' in its path, as when a '/' in a password ends the host early: its POSTs would go to the wrong host (a password with /, ? or # in it is written %2F, %3F, %23; an '@' in the path itself %40)`,
		"https://:12/secret@crm.example.com/x":   `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one with an '@' in its path, as when a '/' in a password ends the host early: its POSTs would go to the wrong host (a password with /, ? or # in it is written %2F, %3F, %23; an '@' in the path itself %40)`,
		"https://u:12?secret@crm.example.com/x":  `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one with an '@' in its query or fragment and no path, as when a '?' or '#' in a password ends the host early: its POSTs would go to the wrong host (a password with /, ? or # in it is written %2F, %3F, %23; an '@' in the query itself %40)`,
		"https://u:12#secret@crm.example.com/x":  `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one with an '@' in its query or fragment and no path, as when a '?' or '#' in a password ends the host early: its POSTs would go to the wrong host (a password with /, ? or # in it is written %2F, %3F, %23; an '@' in the query itself %40)`,
		// An IPv6 address without its brackets: not a password's fault.
		"https://2001:db8::1/hook":              `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one that does not parse: its host looks like an IPv6 address, which is written in brackets (https://[2001:db8::1]/hook, with a port https://[2001:db8::1]:8443/hook)`,
		"http://::1:8080/x":                     `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one that does not parse: its host looks like an IPv6 address, which is written in brackets (https://[2001:db8::1]/hook, with a port https://[2001:db8::1]:8443/hook)`,
		"https://fd00::abcd/hook":               `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one that does not parse: its host looks like an IPv6 address, which is written in brackets (https://[2001:db8::1]/hook, with a port https://[2001:db8::1]:8443/hook)`,
		"https://u:p@fe80::1%eth0/h":            `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one that does not parse: its host looks like an IPv6 address, which is written in brackets (https://[2001:db8::1]/hook, with a port https://[2001:db8::1]:8443/hook)`,
		"https://u:se:cret/x@crm.example.com/h": `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one that does not parse: the port after its host is not a number (a password with /, ? or # in it is written %2F, %3F, %23)`,
		// A '%' in a password, not written %25: url.Parse quoted it and
		// the two bytes after it, a piece of the password.
		"https://u:100%secret@crm.example.com/h": `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL, got one that does not parse: a '%' not followed by two hex digits (a '%' itself, in a password say, is written %25)`,
		// A space (pasted with the URL): POSTed as %20, or breaking the
		// request line in a query, refused by the destination.
		"https://crm.example.com/h ":      `MMLITE_WEBHOOK_FORWARD: url: a space in the URL, at byte 26 of 26: write one as %20`,
		"https://crm.example.com/h?t=a b": `MMLITE_WEBHOOK_FORWARD: url: a space in the URL, at byte 30 of 31: write one as %20`,
		// No host: every POST failed ("no Host in request URL"), retried
		// for days.
		"https://:8443/h":         `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL with a host, got "https://:8443/h"`,
		"https://u:secret@:443/h": `MMLITE_WEBHOOK_FORWARD: url: want an absolute https:// URL with a host, got "https://:443/h"`,
	} {
		_, err := outbound.Load(outbound.Sources{Forward: raw, ForwardSecret: "s"})
		require.EqualError(t, err, want, "%q", raw)
		require.NotContains(t, err.Error(), "secret", "%q", raw)
	}
}
