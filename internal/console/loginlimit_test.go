package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// loginFrom posts the login form with tok as if from the address addr
// (host:port): the test server's clients are all 127.0.0.1.
func (e *env) loginFrom(addr, tok string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/ui/login", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = addr
	w := httptest.NewRecorder()
	e.srv.Config.Handler.ServeHTTP(w, req)
	return w
}

// Wrong tokens are answered 429 after a burst, per client address, so the
// token cannot be guessed at the speed of the server (found in review:
// 300 guesses in 37 ms, each a 401); another client still logs in, and
// logins that succeed cost nothing.
func TestLogin_WrongTokensAreLimitedPerClient(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	wrong, first429 := 0, -1
	for i := range 300 {
		r := e.do(t, "POST", "/ui/login", url.Values{"token": {"guess-" + strconv.Itoa(i)}}, "")
		switch r.code {
		case http.StatusUnauthorized:
			require.Equal(t, -1, first429, "guess %d: a 401 after a 429", i)
			wrong++
		case http.StatusTooManyRequests:
			if first429 < 0 {
				first429 = i
				require.Contains(t, r.body, "too many wrong tokens")
				s, err := strconv.Atoi(r.h.Get("Retry-After"))
				require.NoError(t, err, "Retry-After in seconds")
				require.Positive(t, s)
				require.Empty(t, r.h.Values("Set-Cookie"))
			}
		default:
			t.Fatalf("guess %d: %d %s", i, r.code, r.body)
		}
	}
	require.GreaterOrEqual(t, wrong, 10, "a burst of wrong tokens is answered 401")
	require.LessOrEqual(t, wrong, 11, "then 429 (one more if the test ran for 12 s)")

	r := e.do(t, "POST", "/ui/login", url.Values{"token": {token}}, "")
	require.Equal(t, http.StatusTooManyRequests, r.code, "a limited client is not told whether its token is right")

	w := e.loginFrom("192.0.2.7:40000", token)
	require.Equal(t, http.StatusSeeOther, w.Code, "another client logs in: %s", w.Body)
	require.Len(t, w.Result().Cookies(), 1)

	for range 20 {
		require.Equal(t, http.StatusSeeOther, e.loginFrom("192.0.2.8:40000", token).Code)
	}
	require.Equal(t, http.StatusUnauthorized, e.loginFrom("192.0.2.8:40001", "not-it").Code,
		"logins that succeed spend none of the client's wrong tokens")
}
