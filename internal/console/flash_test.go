package console_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// get asks for path with the session sess and the cookies cks.
func (e *env) get(t *testing.T, path, sess string, cks ...*http.Cookie) resp {
	t.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+path, nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: "mmlite_session", Value: sess})
	for _, ck := range cks {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	res, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return resp{code: res.StatusCode, body: string(b), h: res.Header}
}

// flashOf is the flash cookie an answer sets, nil without one.
func flashOf(r resp) *http.Cookie {
	for _, ck := range (&http.Response{Header: r.h}).Cookies() {
		if ck.Name == "mmlite_flash" {
			return ck
		}
	}
	return nil
}

// follow goes where an action's answer redirects, with the session and
// the flash the answer set, as a browser does.
func (e *env) follow(t *testing.T, r resp) resp {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	var cks []*http.Cookie
	if ck := flashOf(r); ck != nil {
		cks = append(cks, ck)
	}
	return e.get(t, r.h.Get("Location"), e.sess, cks...)
}

const flashMark = `class="flash"`

// clears checks that a page which showed a flash (its answer r, asked for
// with the flash cookie) clears it: shown once, the browser drops it, as
// it does a cookie of that name and path set to expire now.
func clears(t *testing.T, r resp, path, what string) {
	t.Helper()
	gone := flashOf(r)
	require.NotNil(t, gone, "%s: the page clears the notice it shows", what)
	require.Equal(t, path, gone.Path, "%s: the path the notice was set for", what)
	require.Negative(t, gone.MaxAge, "%s: expired now (Max-Age=0): %v", what, gone)
	require.Empty(t, gone.Value, what)
}

// A flash notice is shown only when the console set it: an action's
// redirect leaves it in a short-lived, HttpOnly, SameSite cookie, signed
// and bound to the session, that its page shows once and clears. A link's
// query shows none (found in review: /ui/senders?done=paused&sender=...
// showed "Sender ... paused" with the link's text, and every page's
// done= showed its notice to whoever opened the link).
func TestFlash_OnlyWhatTheConsoleSet(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	e.guards(t)
	for _, path := range []string{
		"/ui/senders?done=paused&sender=" + url.QueryEscape("default: call +44 20 7946 0000 now"),
		"/ui/senders?done=resumed&sender=held",
		"/ui/campaigns/spring?done=paused",
		"/ui/campaigns/spring?done=cancelled-in-flight&in_flight=7&wait=5h",
		"/ui/suppressions?scope=default&done=added",
		"/ui/suppressions?scope=default&done=removed",
	} {
		r := e.do(t, "GET", path, nil, e.sess)
		// The page, or a 400 for a name the page does not take (the
		// Suppressions page's done=): no notice either way.
		require.Contains(t, []int{http.StatusOK, http.StatusBadRequest}, r.code, "%s: %s", path, r.body)
		require.NotContains(t, r.body, flashMark, "%s: a link sets no notice", path)
		require.NotContains(t, r.body, "call +44", path)
	}

	csrf := e.csrf(t, e.sess)
	r := e.do(t, "POST", "/ui/senders/default/pause", url.Values{"csrf": {csrf}, "confirm": {"yes"}}, e.sess)
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	require.Equal(t, "/ui/senders", r.h.Get("Location"), "the notice is not in the address")
	ck := flashOf(r)
	require.NotNil(t, ck, "the redirect sets the notice")
	require.True(t, ck.HttpOnly && ck.Secure, "HttpOnly, Secure")
	require.Equal(t, http.SameSiteStrictMode, ck.SameSite)
	require.Equal(t, "/ui/senders", ck.Path, "for the page it goes to")
	require.Positive(t, ck.MaxAge)
	require.LessOrEqual(t, ck.MaxAge, 60, "short-lived")

	other := e.login(t, token)
	r2 := e.get(t, "/ui/senders", other, ck)
	require.NotContains(t, r2.body, flashMark, "another session's notice is not shown")
	forged := &http.Cookie{Name: "mmlite_flash", Value: base64.RawURLEncoding.EncodeToString([]byte("Sender default paused")) + ".c2ln"}
	r2 = e.get(t, "/ui/senders", e.sess, forged)
	require.NotContains(t, r2.body, flashMark, "a notice the console did not sign is not shown")
	require.NotContains(t, r2.body, "Sender default paused")

	r = e.follow(t, r)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Contains(t, r.body, `<p class="flash" role="status">Sender default paused: its running campaigns are paused.</p>`)
	clears(t, r, "/ui/senders", "the sender's pause")

	// Every action's notice comes the same way.
	for _, a := range []struct {
		path string
		form url.Values
		to   string
		says string
	}{
		{"/ui/senders/default/resume", nil, "/ui/senders", "Sender default resumed"},
		{"/ui/campaigns/spring/pause", nil, "/ui/campaigns/spring", "The campaign is paused."},
		{"/ui/campaigns/spring/resume", nil, "/ui/campaigns/spring", "The campaign is resumed."},
		{"/ui/campaigns/spring/seal", url.Values{"confirm": {"yes"}}, "/ui/campaigns/spring", "The campaign is sealed"},
		{"/ui/suppressions/remove", url.Values{"confirm": {"yes"}, "scope": {"default"}, "to": {"441234567801"}}, "/ui/suppressions?scope=default", "Taken off the suppression list"},
		{"/ui/campaigns/spring/cancel", url.Values{"confirm": {"yes"}}, "/ui/campaigns/spring", "The campaign is cancelled."},
	} {
		r := e.post(t, a.path, a.form, "", csrf, e.sess)
		require.Equal(t, http.StatusSeeOther, r.code, "%s: %s", a.path, r.body)
		require.Equal(t, a.to, r.h.Get("Location"), a.path)
		require.NotContains(t, r.h.Get("Location"), "done=", a.path)
		require.NotNil(t, flashOf(r), a.path)
		page := e.follow(t, r)
		require.Contains(t, page.body, a.says, a.path)
		path, _, _ := strings.Cut(a.to, "?")
		clears(t, page, path, a.path)
	}
	require.False(t, strings.Contains(e.do(t, "GET", "/ui/campaigns/spring", nil, e.sess).body, flashMark))
}
