package console_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

const token = "console-s3cret"

type env struct {
	srv  *httptest.Server
	p    *producer.Producer
	r    *redistest.Redis
	sess string // a session's cookie, logged in with the token
}

// setup serves the api and its console (with a token, or without one:
// "") over a producer, with a published sender and a running campaign "spring" of
// three recipients.
func setup(t *testing.T, tok string) *env { return setupWith(t, tok, nil) }

// setupWith is setup with the api's configuration changed by opt.
func setupWith(t *testing.T, tok string, opt func(*httpapi.Config)) *env {
	t.Helper()
	return setupProducer(t, tok, opt, nil)
}

// setupProducer is setupWith, with popt editing the producer's config.
func setupProducer(t *testing.T, tok string, opt func(*httpapi.Config), popt func(*producer.Config)) *env {
	t.Helper()
	r := redistest.New(t)
	pc := producer.Config{Client: r.Client, Queue: r.Queue, ResultsQueue: r.Results}
	if popt != nil {
		popt(&pc)
	}
	p, err := producer.New(pc)
	require.NoError(t, err)
	cfg := httpapi.Config{Producer: p, Token: tok, AllowNoAuth: tok == "", ResultsQueue: r.Results,
		Registerer: metrics.NewRegistry()}
	if opt != nil {
		opt(&cfg)
	}
	api, err := httpapi.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	ctx := context.Background()
	s := &sender.Sender{ID: "default", Rate: 10, Burst: 1}
	require.NoError(t, registry.New(r.Client, r.Keys).Publish(ctx, []*sender.Sender{s}))
	camp := &campaign.Campaign{ID: "spring", Sender: "default", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
	_, err = p.Register(ctx, camp)
	require.NoError(t, err)
	_, err = p.Enqueue(ctx, camp, producer.NewCSVSource(strings.NewReader("to\n441234567890\n441234567891\n441234567892\n")), producer.Options{})
	require.NoError(t, err)
	e := &env{srv: srv, p: p, r: r}
	if tok != "" {
		e.sess = e.login(t, tok)
	}
	return e
}

// login logs in with tok and returns the session's cookie.
func (e *env) login(t *testing.T, tok string) string {
	t.Helper()
	r := e.do(t, "POST", "/ui/login", url.Values{"token": {tok}}, "")
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	ck := (&http.Response{Header: r.h}).Cookies()
	require.Len(t, ck, 1)
	return ck[0].Value
}

// noRedirect is a client that shows redirects rather than follow them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

type resp struct {
	code int
	body string
	h    http.Header
}

func (e *env) do(t *testing.T, method, path string, form url.Values, cookie string, hdr ...string) resp {
	t.Helper()
	if form == nil {
		return e.send(t, method, path, nil, "", cookie, hdr...)
	}
	return e.send(t, method, path, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded", cookie, hdr...)
}

// send is do with a body of its own type (ctype; none when "").
func (e *env) send(t *testing.T, method, path string, body io.Reader, ctype, cookie string, hdr ...string) resp {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	require.NoError(t, err)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "mmlite_session", Value: cookie})
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := noRedirect.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return resp{code: res.StatusCode, body: string(b), h: res.Header}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF token of a session from the campaign's page.
func (e *env) csrf(t *testing.T, cookie string) string {
	t.Helper()
	r := e.do(t, "GET", "/ui/campaigns/spring", nil, cookie)
	require.Equal(t, http.StatusOK, r.code, r.body)
	m := csrfRE.FindStringSubmatch(r.body)
	require.NotNil(t, m, "the page has a CSRF field")
	return m[1]
}

func (e *env) state(t *testing.T) campaign.State {
	t.Helper()
	st, err := e.p.Store().Campaigns.Status(context.Background(), "spring")
	require.NoError(t, err)
	return st.State
}

// actions are every POST of the console, with the fields that would make
// each do its work.
var actions = []struct {
	path string
	form url.Values
	file string // a CSV to upload as the form's field file (multipart)
}{
	{"/ui/campaigns/spring/pause", url.Values{}, ""},
	{"/ui/campaigns/spring/resume", url.Values{}, ""},
	{"/ui/campaigns/spring/seal", url.Values{"confirm": {"yes"}}, ""},
	{"/ui/campaigns/spring/cancel", url.Values{"confirm": {"yes"}}, ""},
	{"/ui/campaigns/spring/follow-up", url.Values{"confirm": {"yes"}, "new_id": {"again"}, "status": {"failed"}}, ""},
	{"/ui/campaigns/spring/test", url.Values{"to": {"441234567899"}}, ""},
	{"/ui/senders/default/pause", url.Values{"confirm": {"yes"}}, ""},
	{"/ui/senders/held/resume", url.Values{}, ""},
	{"/ui/suppressions/add", url.Values{"scope": {"default"}, "to": {"441234567800"}, "reason": {"asked"}}, ""},
	{"/ui/suppressions/remove", url.Values{"confirm": {"yes"}, "scope": {"default"}, "to": {"441234567801"}}, ""},
	{"/ui/suppressions/import", url.Values{"scope": {"default"}}, "to,reason\n441234567802,asked\n"},
	{"/ui/logout", url.Values{}, ""},
}

// post posts an action's form (multipart with its file) with a CSRF token.
func (e *env) post(t *testing.T, path string, form url.Values, file, csrf, cookie string, hdr ...string) resp {
	t.Helper()
	f := url.Values{"csrf": {csrf}}
	for k, v := range form {
		f[k] = v
	}
	if file == "" {
		return e.do(t, "POST", path, f, cookie, hdr...)
	}
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, vs := range f {
		for _, v := range vs {
			require.NoError(t, mw.WriteField(k, v))
		}
	}
	fw, err := mw.CreateFormFile("file", "list.csv")
	require.NoError(t, err)
	_, err = io.WriteString(fw, file)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return e.send(t, "POST", path, &b, mw.FormDataContentType(), cookie, hdr...)
}

// guards publishes a second sender, "held", paused by the operator, and
// puts 441234567801 on the suppression list of "default" (a sender
// without a WABA is its own scope).
func (e *env) guards(t *testing.T) *guard.Guard {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, registry.New(e.r.Client, e.r.Keys).Publish(ctx, []*sender.Sender{{ID: "held", Rate: 5, Burst: 1, WABAID: "waba-9"}}))
	g := guard.New(e.r.Client, e.p.Store(), guard.Config{})
	_, err := g.PauseSender(ctx, "held", guard.ReasonOperator, 0, guard.SourceAPI)
	require.NoError(t, err)
	require.NoError(t, g.Suppress(ctx, "default", guard.Entry{To: "441234567801", Reason: "asked", Source: guard.SourceAPI}))
	return g
}

// unchanged checks that no action went through: the campaign runs, the
// senders' pauses and the suppression list are as guards left them.
func (e *env) unchanged(t *testing.T, g *guard.Guard, what string) {
	t.Helper()
	ctx := context.Background()
	require.Equal(t, campaign.StateRunning, e.state(t), "%s changed nothing", what)
	for id, paused := range map[string]bool{"default": false, "held": true} {
		st, err := g.Sender(ctx, id)
		require.NoError(t, err)
		require.Equal(t, paused, st.Paused, "%s: sender %s", what, id)
	}
	for to, on := range map[string]bool{"441234567800": false, "441234567801": true, "441234567802": false} {
		en, err := g.Lookup(ctx, "default", to)
		require.NoError(t, err)
		require.Equal(t, on, en != nil, "%s: %s on the list", what, to)
	}
}

// Every action is refused without the session cookie, with a wrong or no
// CSRF token, or from another site; the same request with both goes
// through (the control that shows the refusals are the checks' doing).
func TestActions_RefusedWithoutSessionOrCSRF(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	g := e.guards(t)
	good := e.csrf(t, e.sess)
	for _, a := range actions {
		r := e.post(t, a.path, a.form, a.file, good, "")
		require.Equal(t, http.StatusUnauthorized, r.code, "%s without the cookie", a.path)
		r = e.post(t, a.path, a.form, a.file, good, "wrong-token")
		require.Equal(t, http.StatusUnauthorized, r.code, "%s with a wrong token in the cookie", a.path)
		r = e.post(t, a.path, a.form, a.file, "forged", e.sess)
		require.Equal(t, http.StatusForbidden, r.code, "%s with a wrong CSRF token", a.path)
		require.Contains(t, r.body, "CSRF token")
		r = e.post(t, a.path, a.form, a.file, "", e.sess)
		require.Equal(t, http.StatusForbidden, r.code, "%s without a CSRF token", a.path)
		r = e.post(t, a.path, a.form, a.file, good, e.sess, "Sec-Fetch-Site", "cross-site")
		require.Equal(t, http.StatusForbidden, r.code, "%s from another site", a.path)
		r = e.post(t, a.path, a.form, a.file, good, e.sess, "Origin", "https://evil.example")
		require.Equal(t, http.StatusForbidden, r.code, "%s from another origin", a.path)
		e.unchanged(t, g, a.path)
	}
	r := e.do(t, "POST", "/ui/campaigns/spring/pause", url.Values{"csrf": {good}}, e.sess, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	require.Equal(t, "/ui/campaigns/spring", r.h.Get("Location"))
	require.Equal(t, campaign.StatePaused, e.state(t))
	// The senders' and suppressions' actions with the cookie and the token go through.
	for _, a := range actions {
		if !strings.HasPrefix(a.path, "/ui/senders/") && !strings.HasPrefix(a.path, "/ui/suppressions/") {
			continue
		}
		r = e.post(t, a.path, a.form, a.file, good, e.sess, "Sec-Fetch-Site", "same-origin")
		require.Contains(t, []int{http.StatusOK, http.StatusSeeOther}, r.code, "%s: %s", a.path, r.body)
	}
	ctx := context.Background()
	for id, paused := range map[string]bool{"default": true, "held": false} {
		st, err := g.Sender(ctx, id)
		require.NoError(t, err)
		require.Equal(t, paused, st.Paused, "sender %s", id)
	}
	for to, on := range map[string]bool{"441234567800": true, "441234567801": false, "441234567802": true} {
		en, err := g.Lookup(ctx, "default", to)
		require.NoError(t, err)
		require.Equal(t, on, en != nil, "%s on the list", to)
	}
}

// The login form checks the token and keeps it in a cookie that scripts
// cannot read, sent over HTTPS only, by the console's pages only.
func TestLogin(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	r := e.do(t, "GET", "/ui/campaigns/spring", nil, "")
	require.Equal(t, http.StatusSeeOther, r.code)
	require.Equal(t, "/ui/login?next=%2Fui%2Fcampaigns%2Fspring", r.h.Get("Location"))

	r = e.do(t, "POST", "/ui/login", url.Values{"token": {"not-it"}, "next": {"/ui/campaigns/spring"}}, "")
	require.Equal(t, http.StatusUnauthorized, r.code)
	require.Contains(t, r.body, "Wrong token")
	require.Empty(t, r.h.Values("Set-Cookie"))

	r = e.do(t, "POST", "/ui/login", url.Values{"token": {token}}, "", "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, r.code, "a login from another site")
	require.Empty(t, r.h.Values("Set-Cookie"))

	r = e.do(t, "POST", "/ui/login", url.Values{"token": {token}, "next": {"//evil.example/"}}, "")
	require.Equal(t, http.StatusSeeOther, r.code)
	require.Equal(t, "/ui/", r.h.Get("Location"), "a redirect stays in the console")
	ck := (&http.Response{Header: r.h}).Cookies()
	require.Len(t, ck, 1)
	require.Equal(t, "mmlite_session", ck[0].Name)
	require.True(t, ck[0].Secure)
	require.True(t, ck[0].HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, ck[0].SameSite)
	require.Equal(t, "/ui/", ck[0].Path)
	require.NotContains(t, ck[0].Value, token, "the cookie holds a signed session, not the token")
	r = e.do(t, "GET", "/ui/", nil, token)
	require.Equal(t, http.StatusSeeOther, r.code, "the token itself is no session")

	r = e.do(t, "GET", "/ui/", nil, ck[0].Value)
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, `href="/ui/campaigns/spring"`)
	require.Contains(t, r.h.Get("Content-Security-Policy"), "frame-ancestors 'none'")
}

// Recipient data is shown as text: a meta.* value with a script tag does
// not become markup, in the failures list nor in a recipient's lookup.
func TestTemplatesEscapeRecipientData(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	ctx := context.Background()
	evil := `<script>alert("x")</script>`
	_, err := e.p.Store().Ledger.Settle(ctx, "spring", "441234567890", store.Outcome{Status: task.StatusFailed,
		Error:    &task.Error{Code: 131026, Title: `<img src=x onerror=alert(1)>`, Class: mmapi.ClassPermanent.String()},
		Metadata: map[string]string{"note": evil}}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	for _, path := range []string{"/ui/campaigns/spring", "/ui/campaigns/spring?to=441234567890&numbers=shown"} {
		r := e.do(t, "GET", path, nil, e.sess)
		require.Equal(t, http.StatusOK, r.code)
		require.NotContains(t, r.body, "<script>alert")
		require.NotContains(t, r.body, "<img src=x")
		require.Contains(t, r.body, `meta.note=&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`)
		require.Contains(t, r.body, "never retried for this recipient", "the class's meaning")
	}
	r := e.do(t, "GET", "/ui/campaigns/spring?to=441234567890", nil, e.sess)
	require.Contains(t, r.body, "<dd>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</dd>")
	require.Contains(t, r.body, "4412*****890", "numbers are masked unless asked for")
	require.NotContains(t, r.body, ">441234567890<")
	r = e.do(t, "GET", "/ui/campaigns/spring?to=441234567890&numbers=shown", nil, e.sess)
	require.Contains(t, r.body, ">441234567890<")
}

// Without a token (the api's --insecure-no-auth), the console asks for no
// login, and still wants the CSRF token of the session it opened.
func TestDevMode(t *testing.T) {
	t.Parallel()
	e := setup(t, "")
	r := e.do(t, "GET", "/ui/campaigns/spring", nil, "")
	require.Equal(t, http.StatusOK, r.code)
	ck := (&http.Response{Header: r.h}).Cookies()
	require.Len(t, ck, 1)
	m := csrfRE.FindStringSubmatch(r.body)
	require.NotNil(t, m)
	r = e.do(t, "POST", "/ui/campaigns/spring/pause", url.Values{"csrf": {"forged"}}, ck[0].Value)
	require.Equal(t, http.StatusForbidden, r.code)
	r = e.do(t, "POST", "/ui/campaigns/spring/pause", url.Values{"csrf": {m[1]}}, "")
	require.Equal(t, http.StatusUnauthorized, r.code)
	require.Equal(t, campaign.StateRunning, e.state(t))
	r = e.do(t, "POST", "/ui/campaigns/spring/pause", url.Values{"csrf": {m[1]}}, ck[0].Value)
	require.Equal(t, http.StatusSeeOther, r.code)
	require.Equal(t, campaign.StatePaused, e.state(t))
}

// The login page is named in the browser's tab and by screen readers like
// every other page (found in review: its title was " · mmlite console").
func TestLoginPage_HasATitle(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	r := e.do(t, "GET", "/ui/login", nil, "")
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, "<title>Log in · mmlite console</title>")
	r = e.do(t, "POST", "/ui/login", url.Values{"token": {"not-it"}}, "")
	require.Equal(t, http.StatusUnauthorized, r.code)
	require.Contains(t, r.body, "<title>Log in · mmlite console</title>")
}
