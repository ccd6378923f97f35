package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// A campaign's page shows the outcomes by status, suppressed included: the
// rows add up to the enqueued (found in review: suppressed had no row).
func TestCampaignPage_OutcomesShowSuppressed(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	ctx := context.Background()
	_, err := e.p.Store().Ledger.Settle(ctx, "spring", "441234567890", store.Outcome{Status: task.StatusSuppressed,
		Error: &task.Error{Code: 131050, Title: "asked"}}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	st, err := e.p.Store().Campaigns.Status(ctx, "spring")
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Counts.Suppressed)
	r := e.do(t, "GET", "/ui/campaigns/spring", nil, e.sess)
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, `id="progress">1/3 final`)
	require.Regexp(t, `<th scope="row">suppressed</th><td class="num">1</td>`, r.body,
		"the Outcomes table names every final status")
}

// Removing a number from a scope that has no list is a 404, as in the API
// (found in review: a 500 "internal error", logged as an error).
func TestSuppressionsRemove_ScopeWithoutListIs404(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	e.guards(t) // publishes "held" (scope waba-9, no list yet)
	csrf := e.csrf(t, e.sess)
	r := e.post(t, "/ui/suppressions/remove", url.Values{"confirm": {"yes"}, "scope": {"waba-9"}, "to": {"441234567801"}}, "", csrf, e.sess)
	require.NotEqual(t, http.StatusInternalServerError, r.code, "a stale or wrong scope is no internal error")
	require.Equal(t, http.StatusNotFound, r.code)
}

// The follow-up form's new campaign id is checked before the confirmation,
// on the form (found in review: the operator was asked to confirm "bad
// id!", then got a bare error page without the form).
func TestFollowUpForm_BadIDRefusedBeforeConfirmation(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	ctx := context.Background()
	for _, to := range []string{"441234567890", "441234567891", "441234567892"} {
		_, err := e.p.Store().Ledger.Settle(ctx, "spring", to, store.Outcome{Status: task.StatusFailed, Error: &task.Error{Code: 131026}}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}
	_, err := e.p.Seal(ctx, "spring")
	require.NoError(t, err)
	csrf := e.csrf(t, e.sess)
	r := e.post(t, "/ui/campaigns/spring/follow-up", url.Values{"new_id": {"bad id!"}, "status": {"failed"}}, "", csrf, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code, "the form names the bad id before asking to confirm")
	require.NotContains(t, r.body, "Send the follow-up campaign")
	require.Contains(t, r.body, `new campaign id: it must be 1-64 of A-Za-z0-9._-`)
	require.Contains(t, r.body, `name="new_id" value="bad id!"`, "on the form, as typed")
}

// The follow-up form of a campaign that does not exist is a 404, as the
// cancel and seal confirmations are (found in review: a 200 with a form).
func TestFollowUpForm_UnknownCampaignIs404(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	r := e.do(t, "GET", "/ui/campaigns/no-such-campaign/follow-up", nil, e.sess)
	require.Equal(t, http.StatusNotFound, r.code)
	require.NotContains(t, r.body, `name="new_id"`, "no form for a campaign that does not exist")
	for _, path := range []string{"/ui/campaigns/no-such-campaign/cancel", "/ui/campaigns/no-such-campaign/seal"} {
		require.Equal(t, http.StatusNotFound, e.do(t, "GET", path, nil, e.sess).code, path)
	}
	r = e.post(t, "/ui/campaigns/no-such-campaign/follow-up", url.Values{"new_id": {"again"}, "status": {"failed"}}, "", e.csrf(t, e.sess), e.sess)
	require.Equal(t, http.StatusNotFound, r.code, "no confirmation for a campaign that does not exist")
}

// The follow-up form proposes a new id that it accepts: for a campaign id
// of 56 characters or more, id+"-followup" would be over 64 (found in
// review: the form refused its own proposal).
func TestFollowUpForm_ProposedIDIsValid(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	ctx := context.Background()
	id := strings.Repeat("a", 54) + ".b2026" // cut to fit, it would end in its dot
	require.Len(t, id, 60)
	_, err := e.p.Register(ctx, &campaign.Campaign{ID: id, Sender: "default",
		Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}})
	require.NoError(t, err)
	r := e.do(t, "GET", "/ui/campaigns/"+id+"/follow-up", nil, e.sess)
	require.Equal(t, http.StatusOK, r.code, r.body)
	m := regexp.MustCompile(`name="new_id" value="([^"]*)"`).FindStringSubmatch(r.body)
	require.NotNil(t, m, "the form proposes a new id")
	r = e.post(t, "/ui/campaigns/"+id+"/follow-up", url.Values{"new_id": {m[1]}, "status": {"failed"}}, "", e.csrf(t, e.sess), e.sess)
	require.NotContains(t, r.body, "new campaign id:", "the form accepts its own proposal %q", m[1])
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Contains(t, r.body, "Send the follow-up campaign "+m[1]+"?")
	require.Equal(t, strings.Repeat("a", 54)+"-followup", m[1], "the id cut to fit, without the dot it was cut at")
}

// A form whose body cannot be read (an upload cut short, or one the api
// cannot keep) is refused saying so, not as a wrong CSRF token, which
// sends the operator reloading the page for nothing.
func TestForm_UnreadableBodyIsNotACSRFError(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	good := e.csrf(t, e.sess)
	body := "--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + good + "\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"scope\"\r\n\r\ndefault\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"list.csv\"\r\n\r\nto\n4477009" // no closing boundary
	r := e.send(t, "POST", "/ui/suppressions/import", strings.NewReader(body), "multipart/form-data; boundary=b", e.sess)
	require.Equal(t, http.StatusBadRequest, r.code, r.body)
	require.Contains(t, r.body, "refused: the form could not be read")
	require.NotContains(t, r.body, "CSRF")
}

// A form the console refuses comes back on its page with what the
// operator typed (escaped) and the error next to it, with the status it
// had (found in review: the Add form of a suppression list and the test
// send answered a bare error page, and what was typed was lost).
func TestForms_KeepWhatWasTyped(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	e.guards(t)
	csrf := e.csrf(t, e.sess)
	reason := `<b>asked</b> by "phone"`

	r := e.post(t, "/ui/suppressions/add", url.Values{"scope": {"default"}, "to": {"12"}, "reason": {reason}}, "", csrf, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code, r.body)
	require.Contains(t, r.body, "<h1>Suppressions</h1>", "the form's page")
	require.Contains(t, r.body, `<p class="error" role="alert" id="add-error">number: &#34;12&#34; is not an international phone number`)
	require.Contains(t, r.body, `<input id="add-to" name="to" type="tel" autocomplete="off" required value="12" aria-invalid="true" aria-describedby="add-error">`)
	require.Contains(t, r.body, `<input id="add-reason" name="reason" maxlength="500" value="`+html.EscapeString(reason)+`">`)
	require.NotContains(t, r.body, "<b>asked", "escaped")

	long := strings.Repeat("x", 501)
	r = e.post(t, "/ui/suppressions/add", url.Values{"scope": {"default"}, "to": {"+44 1234 567808"}, "reason": {long}, "numbers": {"shown"}}, "", csrf, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code, r.body)
	require.Contains(t, r.body, `id="add-error">reason is longer than 500 characters (501)`)
	require.Contains(t, r.body, `required value="&#43;44 1234 567808"`, "as typed (html/template writes + as &#43;)")
	require.Contains(t, r.body, `value="`+long+`" aria-invalid="true" aria-describedby="add-error">`, "the reason is at fault")
	require.NotContains(t, r.body, `required value="&#43;44 1234 567808" aria-invalid`, "the number is not")
	require.Contains(t, r.body, `<input type="hidden" name="numbers" value="shown">`, "the page as it was")

	r = e.post(t, "/ui/suppressions/add", url.Values{"scope": {"nope"}, "to": {"441234567806"}}, "", csrf, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code, r.body)
	require.Contains(t, r.body, `id="add-error">scope nope is no published sender`)
	require.NotContains(t, r.body, `aria-invalid`, "neither field is at fault")

	r = e.post(t, "/ui/campaigns/spring/test", url.Values{"to": {"call <me>"}}, "", csrf, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code, r.body)
	require.Contains(t, r.body, "<h1>Campaign <span class=\"id\">spring</span></h1>", "the form's page")
	require.Contains(t, r.body, `<input id="test-to" name="to" type="tel" autocomplete="off" required aria-describedby="test-hint test-error" value="call &lt;me&gt;" aria-invalid="true">`)
	require.Contains(t, r.body, `<p class="error" role="alert" id="test-error">`)
	require.Contains(t, r.body, "is not a phone number")

	// The follow-up's id taken by another campaign: its form again, as it
	// was filled, after the confirmation.
	ctx := context.Background()
	for _, to := range []string{"441234567890", "441234567891", "441234567892"} {
		_, err := e.p.Store().Ledger.Settle(ctx, "spring", to, store.Outcome{Status: task.StatusFailed, Error: &task.Error{Code: 131026}}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}
	_, err := e.p.Seal(ctx, "spring")
	require.NoError(t, err)
	_, err = e.p.Register(ctx, &campaign.Campaign{ID: "autumn", Sender: "default", Template: mmapi.Template{Name: "other", Language: mmapi.Language{Code: "en"}}})
	require.NoError(t, err)
	r = e.post(t, "/ui/campaigns/spring/follow-up", url.Values{"confirm": {"yes"}, "new_id": {"autumn"}, "status": {"failed"}, "codes": {"131026"}}, "", csrf, e.sess)
	require.Equal(t, http.StatusConflict, r.code, r.body)
	require.Contains(t, r.body, "<h1>Follow up spring</h1>")
	require.Contains(t, r.body, `<p class="error" role="alert">campaign autumn exists`)
	require.Contains(t, r.body, `name="new_id" value="autumn"`)
	require.Contains(t, r.body, `name="codes" value="131026"`)
	require.Contains(t, r.body, `name="status" value="failed" checked`)
}

// The console showed the word of the Go package that made an error
// ("guard: not a phone number: ...", "guard: unknown scope: ...",
// "campaign: not found: nope", "file: suppressions: line 1: ..."). Each
// reads as a sentence that says what and which, as the API's.
func TestErrors_ReadAsSentences(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	e.guards(t) // publishes "held" (scope waba-9, no list yet)
	csrf := e.csrf(t, e.sess)
	for _, tc := range []struct {
		r    resp
		code int
		want string
	}{
		{e.post(t, "/ui/suppressions/remove", url.Values{"confirm": {"yes"}, "scope": {"default"}, "to": {"nope"}}, "", csrf, e.sess),
			http.StatusBadRequest, "&#34;nope&#34; is not a phone number: unexpected &#39;n&#39;"},
		{e.post(t, "/ui/suppressions/remove", url.Values{"confirm": {"yes"}, "scope": {"waba-9"}, "to": {"441234567801"}}, "", csrf, e.sess),
			http.StatusNotFound, "scope &#34;waba-9&#34; has no suppression list"},
		{e.post(t, "/ui/suppressions/import", url.Values{"scope": {"default"}}, "number\n441234567807\n", csrf, e.sess),
			http.StatusBadRequest, "file: line 1: the header has no column &#34;to&#34;"},
		{e.do(t, "GET", "/ui/campaigns/nope", nil, e.sess), http.StatusNotFound, "campaign nope not found"},
	} {
		require.Equal(t, tc.code, tc.r.code, tc.r.body)
		require.Contains(t, tc.r.body, tc.want)
		for _, word := range []string{"guard: ", "campaign: ", "suppressions: "} {
			require.NotContains(t, tc.r.body, word)
		}
	}
}
