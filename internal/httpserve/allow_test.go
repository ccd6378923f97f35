package httpserve

import "testing"

func TestAllow(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"POST"}, "POST"},
		{[]string{"POST", "GET"}, "GET, HEAD, POST"},
		{[]string{"GET", "GET"}, "GET, HEAD"},
		{[]string{"DELETE", "GET", "HEAD"}, "DELETE, GET, HEAD"},
	} {
		if got := Allow(c.in); got != c.want {
			t.Errorf("Allow(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
