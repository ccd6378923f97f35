package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/authlimit"
	"github.com/mmlite/mmlite/internal/httpserve"
)

// The session: the login form checks the API's token and answers with a
// session cookie: an expiry and a random id, signed with a key derived
// from the token (HMAC-SHA-256), so that the cookie holds no token, every
// replica of the api accepts the others' sessions, a session ends at its
// expiry however it is kept, and changing the token ends them all. The
// cookie is one that scripts cannot read (HttpOnly), that is sent only over
// HTTPS (Secure; browsers make an exception for localhost and loopback
// addresses) and only by the console's own pages (SameSite=Strict,
// Path=/ui/). Every action (a POST) also carries a CSRF token, an HMAC of
// the cookie's value, in a hidden field, and must come from the console's
// own origin (Sec-Fetch-Site, or Origin against Host:
// http.CrossOriginProtection). When the API runs without a token, the
// console asks for no login: the cookie then holds a random value, made on
// the first visit, that the CSRF token is bound to.

const (
	cookieName = "mmlite_session"
	csrfField  = "csrf"
	sessionAge = 12 * time.Hour
	sessionVer = "s1"
)

// deriveKey is a key for one purpose (the CSRF tokens, the sessions, the
// flashes):
// derived from the API token, so that every replica of the api agrees on
// it; random without a token.
func deriveKey(token, purpose string) []byte {
	if token == "" {
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		return k
	}
	sum := sha256.Sum256([]byte("mmlite console " + purpose + "\x00" + token))
	return sum[:]
}

func (c *Console) devMode() bool { return c.cfg.Token == "" }

// newSession is the value of a session that ends at exp:
// s1.<exp, unix s>.<random id>.<HMAC of what precedes it>.
func (c *Console) newSession(exp time.Time) string {
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	v := sessionVer + "." + strconv.FormatInt(exp.Unix(), 10) + "." + base64.RawURLEncoding.EncodeToString(id)
	return v + "." + c.sign(v)
}

func (c *Console) sign(v string) string {
	m := hmac.New(sha256.New, c.sessionKey)
	m.Write([]byte(v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// session is the cookie's value when it opens a session, "" otherwise.
func (c *Console) session(r *http.Request) string {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return ""
	}
	if c.devMode() {
		return ck.Value
	}
	i := strings.LastIndexByte(ck.Value, '.')
	if i < 0 || subtle.ConstantTimeCompare([]byte(ck.Value[i+1:]), []byte(c.sign(ck.Value[:i]))) != 1 {
		return ""
	}
	parts := strings.Split(ck.Value[:i], ".")
	if len(parts) != 3 || parts[0] != sessionVer {
		return ""
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || time.Now().Unix() >= exp {
		return ""
	}
	return ck.Value
}

func setSession(w http.ResponseWriter, value string, age time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: value, Path: Prefix, MaxAge: int(age.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// csrfToken is the CSRF token of a session.
func (c *Console) csrfToken(session string) string {
	m := hmac.New(sha256.New, c.csrfKey)
	m.Write([]byte("csrf\x00" + session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// authed lets a request with a session through; one without goes to the
// login form (a page) or is refused (anything else). Without a token, a
// first visit gets a session.
func (c *Console) authed(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess := c.session(r)
		if sess == "" && c.devMode() {
			b := make([]byte, 24)
			_, _ = rand.Read(b)
			sess = base64.RawURLEncoding.EncodeToString(b)
			setSession(w, sess, sessionAge)
		}
		if sess == "" {
			if r.Method == http.MethodGet && r.Header.Get("X-Console-Poll") == "" {
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.errorPage(w, r, http.StatusUnauthorized, "log in first: the session is missing or has ended")
			return
		}
		h(w, withSession(r, sess), sess)
	}
}

type sessionKey struct{}

func withSession(r *http.Request, sess string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess))
}

// action is authed for a POST that changes something: it must come from
// the console's origin and carry the session's CSRF token.
func (c *Console) action(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return c.actionMax(h, maxForm)
}

// actionMax is action for a form of at most limit bytes (a file's upload).
func (c *Console) actionMax(h func(http.ResponseWriter, *http.Request, string), limit int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := c.origin.Check(r); err != nil {
			c.errorPage(w, r, http.StatusForbidden, "refused: the request did not come from the console's own pages")
			return
		}
		sess := c.session(r)
		if sess == "" {
			c.errorPage(w, r, http.StatusUnauthorized, "log in first: the session is missing or has ended")
			return
		}
		httpserve.AllowLongRead(w) // an upload, from a session
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		// A form that cannot be read is refused for what it is: read on,
		// its CSRF token would be missing, and the page would say so.
		switch err := parseForm(r); {
		case errors.As(err, new(*http.MaxBytesError)):
			c.errorPage(w, r, http.StatusRequestEntityTooLarge, "refused: the form is larger than "+strconv.FormatInt(limit, 10)+" bytes")
			return
		case err != nil:
			c.errorPage(w, r, http.StatusBadRequest, "refused: the form could not be read: "+err.Error())
			return
		}
		got := r.PostFormValue(csrfField)
		if want := c.csrfToken(sess); subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			c.errorPage(w, r, http.StatusForbidden, "refused: the form's CSRF token is missing or wrong; reload the page and try again")
			return
		}
		h(w, withSession(r, sess), sess)
	}
}

// parseForm reads a form's body, url-encoded or multipart (an upload).
func parseForm(r *http.Request) error {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return r.ParseMultipartForm(maxMemory)
	}
	return r.ParseForm()
}

// maxForm bounds a form's body; maxImport a suppression import's without
// the API's limit.
const (
	maxForm   = 64 << 10
	maxImport = 32 << 20
	maxMemory = 32 << 20 // of an upload, kept in memory; the rest goes to a temporary file
)

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if c.devMode() || c.session(r) != "" {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "login", newLoginView(r, safeNext(r.URL.Query().Get("next"))))
}

type loginView struct {
	view
	Next  string
	Wrong bool
	Plain bool // served over plain HTTP away from localhost: the cookie will not stick
	// WaitSeconds, when not 0, is how long the client must wait after too
	// many wrong tokens (see package authlimit).
	WaitSeconds int
}

// newLoginView is the login form of a request, going to next once logged
// in.
func newLoginView(r *http.Request, next string) *loginView {
	return &loginView{view: view{Title: "Log in"}, Next: next, Plain: plainHTTP(r)}
}

// plainHTTP says that the page came over plain HTTP (not even behind a
// proxy that speaks HTTPS) to a host other than localhost or a loopback
// address, where browsers do not keep a Secure cookie.
func plainHTTP(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if ip := net.ParseIP(host); ip != nil {
		return !ip.IsLoopback()
	}
	return host != "localhost" && !strings.HasSuffix(host, ".localhost")
}

// login checks the token of the login form.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if err := c.origin.Check(r); err != nil {
		c.errorPage(w, r, http.StatusForbidden, "refused: the request did not come from the console's own pages")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	next := safeNext(r.PostFormValue("next"))
	if c.devMode() {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	client := authlimit.ClientOf(r, c.cfg.TrustedProxies)
	done, wait := c.logins.Begin(client, time.Now())
	if wait > 0 {
		secs := authlimit.RetryAfter(wait)
		c.log.Debug("console login refused: too many wrong tokens", "client", client)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		v := newLoginView(r, next)
		v.WaitSeconds = secs
		c.render(w, r, http.StatusTooManyRequests, "login", v)
		return
	}
	tok := strings.TrimSpace(r.PostFormValue("token"))
	sum := sha256.Sum256([]byte(tok))
	wrong := tok == "" || subtle.ConstantTimeCompare(sum[:], c.token[:]) != 1
	done(wrong, time.Now())
	if wrong {
		c.log.Info("console login refused: wrong token", "client", client)
		v := newLoginView(r, next)
		v.Wrong = true
		c.render(w, r, http.StatusUnauthorized, "login", v)
		return
	}
	setSession(w, c.newSession(time.Now().Add(sessionAge)), sessionAge)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, _ string) {
	setSession(w, "", -time.Second)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// safeNext keeps a redirect inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.ContainsAny(next, "\\\r\n") {
		return Prefix
	}
	return next
}
