package console_test

import (
	"context"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/stretchr/testify/require"
)

// A number added to a suppression list is not in the address the add
// redirects to, which browsers keep in their history and proxies in their
// logs, nor in its notice's cookie; the notice names it masked (found in
// review: the redirect went to ?to=<the number>).
func TestSuppressionsAdd_AddressCarriesNoNumber(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	e.guards(t)
	csrf := e.csrf(t, e.sess)
	for to, numbers := range map[string]string{"441234567803": "", "441234567804": "shown"} {
		form := url.Values{"scope": {"default"}, "to": {"+44 1234 " + to[6:]}, "reason": {"asked"}}
		want := "/ui/suppressions?"
		if numbers != "" {
			form.Set("numbers", numbers)
			want += "numbers=shown&"
		}
		want += "scope=default"
		r := e.post(t, "/ui/suppressions/add", form, "", csrf, e.sess)
		require.Equal(t, http.StatusSeeOther, r.code, r.body)
		require.Equal(t, want, r.h.Get("Location"), "the scope's page, without the number")
		ck := flashOf(r)
		require.NotNil(t, ck)
		v, _, _ := strings.Cut(ck.Value, ".")
		msg, err := base64.RawURLEncoding.DecodeString(v)
		require.NoError(t, err)
		require.NotContains(t, string(msg), to[6:], "the notice's cookie holds no number")
		page := e.follow(t, r)
		require.Equal(t, http.StatusOK, page.code, page.body)
		require.Contains(t, page.body, `<p class="flash" role="status">Added `+to[:4]+"*****"+to[9:]+` to the suppression list of default.</p>`)
		require.NotContains(t, page.body, `name="to" type="tel" autocomplete="off" required value="`+to, "no search of it")
	}
}

// The Suppressions page reads its query as the campaign list does: a
// query it cannot read, a name given twice or a cursor no page gave is a
// 400 with the error, in the API's words (found in review: a repeated
// scope showed the first one's list, cursor=%zz was dropped and the first
// page shown, and a bad cursor was worded the console's own way).
func TestSuppressions_UnreadableQueryIs400(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	e.guards(t)
	for _, c := range []struct{ query, want string }{
		{"scope=default&scope=waba-9", "scope is given 2 times: give it once"},
		{"scope=default&to=441234567801&to=441234567802", "to is given 2 times: give it once"},
		{"scope=default&cursor=a&cursor=b", "cursor is given 2 times: give it once"},
		{"scope=default&numbers=shown&numbers=hidden", "numbers is given 2 times: give it once"},
		{"scope=default&cursor=%zz", `the query string cannot be read: invalid URL escape "%zz"`},
		{"scope=default;cursor=x", `the query string cannot be read: invalid semicolon separator in query: separate parameters with "&"`},
		{"scope=default&cursor=nonsense", `cursor "nonsense" is not one a previous page gave: start again without it`},
		{"Scope=waba-9", `unknown query parameter "Scope": GET /ui/suppressions takes scope, to, cursor and numbers`},
		{"scope=default&number=441234567801", `unknown query parameter "number": GET /ui/suppressions takes scope, to, cursor and numbers`},
	} {
		r := e.do(t, "GET", "/ui/suppressions?"+c.query, nil, e.sess)
		require.Equal(t, http.StatusBadRequest, r.code, "%s: %s", c.query, r.body)
		require.Contains(t, r.body, html.EscapeString(c.want), c.query)
	}
	api := e.do(t, "GET", "/v1/suppressions?scope=default&cursor=nonsense", nil, "", "Authorization", "Bearer "+token)
	require.Equal(t, http.StatusBadRequest, api.code, api.body)
	require.Contains(t, api.body, `cursor \"nonsense\" is not one a previous page gave`, "the API's words")
	r := e.do(t, "GET", "/ui/suppressions?scope=default", nil, e.sess)
	require.Equal(t, http.StatusOK, r.code, r.body)
}

// The Remove notice names the number taken off masked as the list holds
// it, normalised, as the Add notice does (found in review: it masked the
// posted number as typed, "+44 ********801").
func TestSuppressionsRemove_NoticeMasksTheNormalisedNumber(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	e.guards(t) // 441234567801 on the list of default
	r := e.post(t, "/ui/suppressions/remove", url.Values{"confirm": {"yes"}, "scope": {"default"}, "to": {"+44 1234 567801"}}, "", e.csrf(t, e.sess), e.sess)
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	page := e.follow(t, r)
	require.Contains(t, page.body, "Taken off the suppression list of default: 4412*****801.")
}

// An Add refused for a scope that has a list but no published sender (its
// sender unpublished after the page was loaded) comes back with the Add
// form as it was filled and the reason next to it, as a refusal in a
// published sender's scope does (found in review: the page came back
// without the form, what was typed lost).
func TestSuppressionsAdd_RefusedInScopeWithoutSenderKeepsTheForm(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	g := e.guards(t)
	require.NoError(t, g.Suppress(context.Background(), "1029384756", guard.Entry{To: "441234567809", Reason: "asked", Source: guard.SourceAPI}))
	r := e.post(t, "/ui/suppressions/add", url.Values{"scope": {"1029384756"}, "to": {"+44 1234 567806"}, "reason": {"moved away"}, "numbers": {"shown"}}, "", e.csrf(t, e.sess), e.sess)
	require.Equal(t, http.StatusBadRequest, r.code, r.body)
	require.Contains(t, r.body, `<option value="1029384756" selected>1029384756 (no published sender)</option>`, "the scope's page")
	require.Contains(t, r.body, `<p class="error" role="alert" id="add-error">scope 1029384756 is no published sender&#39;s WABA (or sender id)`)
	require.Contains(t, r.body, `<input id="add-to" name="to" type="tel" autocomplete="off" required value="&#43;44 1234 567806">`, "the number as typed")
	require.Contains(t, r.body, `<input id="add-reason" name="reason" maxlength="500" value="moved away">`, "the reason as typed")
	require.Equal(t, 1, strings.Count(r.body, `id="add-error"`), "the reason once")
	require.Contains(t, r.body, "No published sender has the scope 1029384756", "why it cannot be added to")
	require.NotContains(t, r.body, `id="import"`, "nor imported to")
	require.Contains(t, r.body, ">441234567809<", "its list, numbers shown as they were")
}

// The Remove confirmation names the number the list holds, normalised,
// masked unless the numbers are shown, as the list names it, and posts
// that number; a number that is not one is refused there, before any
// confirmation (found in review: it masked the number as posted,
// "+44 ********801", and asked to confirm the removal of "nope").
func TestSuppressionsRemove_ConfirmationNamesTheNormalisedNumber(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	e.guards(t) // 441234567801 on the list of default
	csrf := e.csrf(t, e.sess)
	for numbers, want := range map[string]string{"": "4412*****801", "shown": "441234567801"} {
		r := e.post(t, "/ui/suppressions/remove", url.Values{"scope": {"default"}, "to": {" +44 1234 567801"}, "numbers": {numbers}}, "", csrf, e.sess)
		require.Equal(t, http.StatusOK, r.code, r.body)
		require.Contains(t, r.body, "<title>Remove 4412*****801? · mmlite console</title>", "masked in the title, which browsers keep in their history")
		require.Contains(t, r.body, "<h1>Take "+want+" off the suppression list of default?</h1>", "numbers=%s", numbers)
		require.Contains(t, r.body, `<input type="hidden" name="to" value="441234567801">`, "what is removed")
		list := e.do(t, "GET", "/ui/suppressions?scope=default&numbers="+numbers, nil, e.sess)
		require.Contains(t, list.body, `<td class="mono">`+want+`</td>`, "as the list names it")
	}
	r := e.post(t, "/ui/suppressions/remove", url.Values{"scope": {"default"}, "to": {"nope"}}, "", csrf, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code, r.body)
	require.Contains(t, r.body, "&#34;nope&#34; is not a phone number: unexpected &#39;n&#39;")
	require.NotContains(t, r.body, "Remove it")
}
