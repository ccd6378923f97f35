package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/clientip"
	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/stretchr/testify/require"
)

// loginFrom posts the login form with tok as if from the address addr
// (host:port): the test server's clients are all 127.0.0.1.
func (e *env) loginFrom(addr, tok string) *httptest.ResponseRecorder {
	return e.loginVia(addr, "", tok)
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

// loginVia posts the login form with tok from the address addr
// (host:port), with xff as its X-Forwarded-For unless empty: a proxy at
// addr that says it was reached from xff.
func (e *env) loginVia(addr, xff, tok string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/ui/login", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	req.RemoteAddr = addr
	w := httptest.NewRecorder()
	e.srv.Config.Handler.ServeHTTP(w, req)
	return w
}

// Behind a proxy the operator trusts (MMLITE_TRUSTED_PROXIES), the limit
// is per client the proxy forwards, not per proxy: a client guessing
// through the Ingress no longer holds the login back for everyone behind
// it; and what a client writes in X-Forwarded-For itself changes nothing.
func TestLogin_BehindTrustedProxyTheLimitIsPerClient(t *testing.T) {
	t.Parallel()
	proxies, err := clientip.Parse("10.0.0.0/8")
	require.NoError(t, err)
	e := setupWith(t, token, func(c *httpapi.Config) { c.TrustedProxies = proxies })
	for i := range 30 {
		// The guesser writes a new address of its own each time: the proxy
		// appends the one it was reached from.
		xff := "198.51.100." + strconv.Itoa(i) + ", 203.0.113.9"
		if w := e.loginVia("10.0.0.5:4000", xff, "guess-"+strconv.Itoa(i)); w.Code == http.StatusTooManyRequests {
			require.GreaterOrEqual(t, i, 10, "a burst of wrong tokens first")
			w = e.loginVia("10.0.0.5:4001", "192.0.2.50", token)
			require.Equal(t, http.StatusSeeOther, w.Code, "another client behind the same proxy logs in: %s", w.Body)
			require.Equal(t, http.StatusTooManyRequests, e.loginVia("10.0.0.6:4000", "203.0.113.9", token).Code,
				"the guesser stays limited, through any of the proxies")
			require.Equal(t, http.StatusSeeOther, e.loginFrom("192.0.2.99:4000", token).Code, "a client reaching the api directly logs in")
			return
		}
	}
	t.Fatal("30 wrong tokens from one client behind the proxy, none refused 429")
}

// Wrong bearer tokens on /v1 spend the same per-client allowance as the
// login form's wrong tokens: guessing through the API got round the
// console's limit, a 401 each at the speed of the server (found in
// review). A limited client is answered 429 whatever token it sends, on
// /v1 and at the login; another client is served.
func TestV1_WrongTokensShareTheLoginLimit(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	first429 := -1
	for i := range 100 {
		r := e.do(t, "GET", "/v1/campaigns", nil, "", "Authorization", "Bearer guess-"+strconv.Itoa(i))
		if r.code == http.StatusTooManyRequests {
			first429 = i
			require.Contains(t, r.body, "too many wrong tokens")
			s, err := strconv.Atoi(r.h.Get("Retry-After"))
			require.NoError(t, err, "Retry-After in seconds")
			require.Positive(t, s)
			break
		}
		require.Equal(t, http.StatusUnauthorized, r.code, "guess %d: %s", i, r.body)
	}
	require.GreaterOrEqual(t, first429, 10, "a burst of wrong tokens is answered 401 first")
	require.Equal(t, http.StatusTooManyRequests, e.do(t, "GET", "/v1/campaigns", nil, "", "Authorization", "Bearer "+token).code,
		"a limited client is not told whether its token is right")
	require.Equal(t, http.StatusTooManyRequests, e.do(t, "POST", "/ui/login", url.Values{"token": {token}}, "").code,
		"nor at the login")
	require.Equal(t, http.StatusSeeOther, e.loginFrom("192.0.2.7:40000", token).Code, "another client logs in")
}

// A /v1 request without a token guesses nothing: it is answered 401 and
// spends none of the address's allowance (a prober without the header
// locked the address out, the right token too).
func TestV1_NoTokenSpendsNothing(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	for i := range 30 {
		r := e.do(t, "GET", "/v1/campaigns", nil, "")
		require.Equal(t, http.StatusUnauthorized, r.code, "request %d without a token: %s", i, r.body)
	}
	require.Equal(t, http.StatusOK, e.do(t, "GET", "/v1/campaigns", nil, "", "Authorization", "Bearer "+token).code)
}
