package mmapi_test

import (
	"net/http"
	"testing"
	"unicode/utf8"

	"github.com/mmlite/mmlite/pkg/mmapi"
)

// FuzzParseAnswer feeds the classifier any status, body and Retry-After:
// it never panics, every failure gets a class, and the at-most-once rules
// hold whatever the body says. Seeds: testdata/fuzz/FuzzParseAnswer.
func FuzzParseAnswer(f *testing.F) {
	c := mmapi.NewClient(http.DefaultClient)
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		status = 100 + abs(status)%500
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		resp, err := c.ParseAnswer(status, h, body)
		if err == nil {
			if status < 200 || status > 299 || resp.WAMID() == "" {
				t.Fatalf("success without a 2xx and a message id: %d %q", status, body)
			}
			return
		}
		e, ok := err.(*mmapi.Error)
		if !ok {
			t.Fatalf("not an *mmapi.Error: %T", err)
		}
		if e.Class == mmapi.ClassOK || e.Class.String() == "unknown" {
			t.Fatalf("failure with class %v", e.Class)
		}
		if e.HTTPStatus != status {
			t.Fatalf("status %d reported as %d", status, e.HTTPStatus)
		}
		if status >= 500 && e.Class == mmapi.ClassTransient && !e.HasCode {
			t.Fatalf("a %d without the provider's code may have been forwarded: want ambiguous, got transient (%q)", status, body)
		}
		if status >= 200 && status < 300 && e.Class != mmapi.ClassAmbiguous {
			t.Fatalf("a %d without a message id must be ambiguous, got %v", status, e.Class)
		}
		if e.RetryAfter < 0 || e.RetryAfter > mmapi.DefaultMaxRetryAfter {
			t.Fatalf("Retry-After %q gave %v", retryAfter, e.RetryAfter)
		}
		for name, s := range map[string]string{"title": e.Title, "details": e.Details} {
			if len(s) > mmapi.MaxText+3 || !utf8.ValidString(s) {
				t.Fatalf("%s not bounded or not UTF-8: %d bytes", name, len(s))
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		if n = -n; n < 0 {
			return 0
		}
	}
	return n
}
