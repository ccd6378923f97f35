package console

import (
	"crypto/sha256"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/authlimit"
	"github.com/mmlite/mmlite/internal/clientip"
	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/httpserve"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/producer"
)

// Prefix is where the console is served.
const Prefix = "/ui/"

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the console needs.
type Config struct {
	Producer *producer.Producer
	// Token is the API's bearer token; the login form asks for it. Empty
	// when the API runs without authentication (--insecure-no-auth): the
	// console then asks for no login either.
	Token string
	// Classify is how the API answers an error of the store or the
	// producer: its HTTP status and message. The console answers the same.
	Classify func(error) (code int, msg string)
	// Guard is the API's guard: the senders' pauses and the suppression
	// lists.
	Guard *guard.Guard
	// MaxUpload bounds a suppression import (the API's MMLITE_MAX_UPLOAD);
	// 0 is maxImport.
	MaxUpload int64
	// TrustedProxies say who the client of a login is behind them (see
	// clientip.Proxies.Of); none: the connection's address.
	TrustedProxies clientip.Proxies
	// Logins limits wrong tokens per client; the API's, so that guessing
	// on /v1 and at the login spend one allowance. nil: one of its own.
	Logins *authlimit.Limiter
	Logger *slog.Logger
}

// Console serves the pages.
type Console struct {
	cfg     Config
	log     *slog.Logger
	token   [32]byte // sha256 of the token
	csrfKey []byte
	// sessionKey signs the sessions (see newSession).
	sessionKey []byte
	flashKey   []byte // signs the flashes (see redirect)
	// now is the clock a flash's expiry is read by: time.Now, a test's
	// own.
	now     func() time.Time
	pages   map[string]*template.Template
	mux     *http.ServeMux
	methods map[string][]string // each route's path and the methods it takes
	origin  *http.CrossOriginProtection
	senders *registry.Registry
	logins  *authlimit.Limiter
}

// New builds the console.
func New(cfg Config) (*Console, error) {
	switch {
	case cfg.Producer == nil:
		return nil, errors.New("console: a producer is required")
	case cfg.Classify == nil:
		return nil, errors.New("console: Classify is required")
	case cfg.Guard == nil:
		return nil, errors.New("console: a guard is required")
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = maxImport
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Logins == nil {
		cfg.Logins = authlimit.New(authlimit.MaxClients)
	}
	c := &Console{cfg: cfg, log: cfg.Logger, token: sha256.Sum256([]byte(cfg.Token)), mux: http.NewServeMux(), methods: map[string][]string{},
		origin: http.NewCrossOriginProtection(), csrfKey: deriveKey(cfg.Token, "csrf"), sessionKey: deriveKey(cfg.Token, "session"),
		flashKey: deriveKey(cfg.Token, "flash"), logins: cfg.Logins, now: time.Now,
		senders: registry.New(cfg.Producer.Redis(), cfg.Producer.Store().Campaigns.Keys()).
			WithRetention(cfg.Producer.Store().Campaigns.Retention())}
	var err error
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

func (c *Console) routes() {
	static, _ := fs.Sub(staticFS, "static")
	c.handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServerFS(static)).ServeHTTP)
	c.handle("GET /ui/login", c.loginPage)
	c.handle("POST /ui/login", c.login)
	c.handle("POST /ui/logout", c.action(c.logout))
	c.handle("GET /ui/{$}", c.authed(c.campaigns))
	c.handle("GET /ui/campaigns/{id}", c.authed(c.campaign))
	c.handle("GET /ui/campaigns/{id}/live", c.authed(c.campaignLive))
	c.handle("GET /ui/campaigns/{id}/export", c.authed(c.export))
	c.handle("GET /ui/campaigns/{id}/cancel", c.authed(c.confirmCancel))
	c.handle("GET /ui/campaigns/{id}/follow-up", c.authed(c.followUpForm))
	c.handle("POST /ui/campaigns/{id}/pause", c.action(c.control(c.cfg.Producer.Pause, flashPaused)))
	c.handle("POST /ui/campaigns/{id}/resume", c.action(c.control(c.cfg.Producer.Resume, flashResumed)))
	c.handle("GET /ui/campaigns/{id}/seal", c.authed(c.confirmSeal))
	c.handle("POST /ui/campaigns/{id}/seal", c.action(c.seal))
	c.handle("POST /ui/campaigns/{id}/cancel", c.action(c.cancel))
	c.handle("POST /ui/campaigns/{id}/follow-up", c.action(c.followUp))
	c.handle("POST /ui/campaigns/{id}/test", c.action(c.testSend))
	c.handle("GET /ui/senders", c.authed(c.sendersPage))
	c.handle("GET /ui/senders/{id}/pause", c.authed(c.confirmPauseSender))
	c.handle("POST /ui/senders/{id}/pause", c.action(c.pauseSender))
	c.handle("POST /ui/senders/{id}/resume", c.action(c.resumeSender))
	c.handle("GET /ui/suppressions", c.authed(c.suppressions))
	c.handle("POST /ui/suppressions/add", c.action(c.suppress))
	c.handle("POST /ui/suppressions/remove", c.action(c.unsuppress))
	c.handle("POST /ui/suppressions/import", c.actionMax(c.importSuppressions, c.cfg.MaxUpload))
	c.refuseOtherMethods()
	c.mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		c.errorPage(w, r, http.StatusNotFound, "no such page: "+r.Method+" "+r.URL.Path)
	})
}

// handle registers a route and notes the method its path takes.
func (c *Console) handle(pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	c.methods[path] = append(c.methods[path], method)
	c.mux.HandleFunc(pattern, h)
}

// refuseOtherMethods answers a route's path asked for with a method none
// of its routes takes: 405, with Allow, rather than the catch-all's "no
// such page" (the address an action's answer leaves in the address bar,
// opened again, is a GET of a POST's path). Each path gets a pattern
// without a method, which the mux tries only once no route of the
// request's method matched. As the API's, it comes before the session is
// checked: the console's routes are no secret, and it acts on nothing.
func (c *Console) refuseOtherMethods() {
	for _, path := range slices.Sorted(maps.Keys(c.methods)) {
		allow := httpserve.Allow(c.methods[path])
		what := allow
		if allow == http.MethodPost {
			what += ": a form of the console posts here; open the page the form is on"
		}
		c.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			c.errorPage(w, r, http.StatusMethodNotAllowed, "method not allowed: "+r.Method+" "+r.URL.Path+"; it takes "+what)
		})
	}
}

// ServeHTTP serves the console's pages under Prefix.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
		"frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

func (c *Console) store() *store.Store { return c.cfg.Producer.Store() }

func (c *Console) guard() *guard.Guard { return c.cfg.Guard }
