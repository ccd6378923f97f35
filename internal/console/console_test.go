package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

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
	srv *httptest.Server
	p   *producer.Producer
	r   *redistest.Redis
}

// setup serves the api and its console (with a token, or without one:
// "") over a producer, with a published sender and a running campaign "spring" of
// three recipients.
func setup(t *testing.T, tok string) *env {
	t.Helper()
	r := redistest.New(t)
	p, err := producer.New(producer.Config{Client: r.Client, Queue: r.Queue, ResultsQueue: r.Results})
	require.NoError(t, err)
	api, err := httpapi.New(httpapi.Config{Producer: p, Token: tok, AllowNoAuth: tok == "", ResultsQueue: r.Results,
		Registerer: metrics.NewRegistry()})
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
	return &env{srv: srv, p: p, r: r}
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
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
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
}{
	{"/ui/campaigns/spring/pause", url.Values{}},
	{"/ui/campaigns/spring/resume", url.Values{}},
	{"/ui/campaigns/spring/seal", url.Values{}},
	{"/ui/campaigns/spring/cancel", url.Values{"confirm": {"yes"}}},
	{"/ui/campaigns/spring/follow-up", url.Values{"confirm": {"yes"}, "new_id": {"again"}, "status": {"failed"}}},
	{"/ui/campaigns/spring/test", url.Values{"to": {"441234567899"}}},
	{"/ui/logout", url.Values{}},
}

// Every action is refused without the session cookie, with a wrong or no
// CSRF token, or from another site; the same request with both goes
// through (the control that shows the refusals are the checks' doing).
func TestActions_RefusedWithoutSessionOrCSRF(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	good := e.csrf(t, token)
	for _, a := range actions {
		with := func(csrf string) url.Values {
			f := url.Values{"csrf": {csrf}}
			for k, v := range a.form {
				f[k] = v
			}
			return f
		}
		r := e.do(t, "POST", a.path, with(good), "")
		require.Equal(t, http.StatusUnauthorized, r.code, "%s without the cookie", a.path)
		r = e.do(t, "POST", a.path, with(good), "wrong-token")
		require.Equal(t, http.StatusUnauthorized, r.code, "%s with a wrong token in the cookie", a.path)
		r = e.do(t, "POST", a.path, with("forged"), token)
		require.Equal(t, http.StatusForbidden, r.code, "%s with a wrong CSRF token", a.path)
		require.Contains(t, r.body, "CSRF token")
		r = e.do(t, "POST", a.path, with(""), token)
		require.Equal(t, http.StatusForbidden, r.code, "%s without a CSRF token", a.path)
		r = e.do(t, "POST", a.path, with(good), token, "Sec-Fetch-Site", "cross-site")
		require.Equal(t, http.StatusForbidden, r.code, "%s from another site", a.path)
		r = e.do(t, "POST", a.path, with(good), token, "Origin", "https://evil.example")
		require.Equal(t, http.StatusForbidden, r.code, "%s from another origin", a.path)
		require.Equal(t, campaign.StateRunning, e.state(t), "%s changed nothing", a.path)
	}
	r := e.do(t, "POST", "/ui/campaigns/spring/pause", url.Values{"csrf": {good}}, token, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	require.Equal(t, "/ui/campaigns/spring?done=paused", r.h.Get("Location"))
	require.Equal(t, campaign.StatePaused, e.state(t))
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
		r := e.do(t, "GET", path, nil, token)
		require.Equal(t, http.StatusOK, r.code)
		require.NotContains(t, r.body, "<script>alert")
		require.NotContains(t, r.body, "<img src=x")
		require.Contains(t, r.body, `meta.note=&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`)
		require.Contains(t, r.body, "never retried for this recipient", "the class's meaning")
	}
	r := e.do(t, "GET", "/ui/campaigns/spring?to=441234567890", nil, token)
	require.Contains(t, r.body, "<dd>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</dd>")
	require.Contains(t, r.body, "4412*****890", "numbers are masked unless asked for")
	require.NotContains(t, r.body, ">441234567890<")
	r = e.do(t, "GET", "/ui/campaigns/spring?to=441234567890&numbers=shown", nil, token)
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
