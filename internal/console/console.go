package console

import (
	"crypto/sha256"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/mmlite/mmlite/internal/authlimit"
	"github.com/mmlite/mmlite/internal/clientip"
	"github.com/mmlite/mmlite/internal/guard"
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
	pages      map[string]*template.Template
	mux        *http.ServeMux
	origin     *http.CrossOriginProtection
	senders    *registry.Registry
	logins     *authlimit.Limiter
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
	c := &Console{cfg: cfg, log: cfg.Logger, token: sha256.Sum256([]byte(cfg.Token)), mux: http.NewServeMux(),
		origin: http.NewCrossOriginProtection(), csrfKey: deriveKey(cfg.Token, "csrf"), sessionKey: deriveKey(cfg.Token, "session"),
		logins: cfg.Logins,
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
	c.mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServerFS(static)))
	c.mux.HandleFunc("GET /ui/login", c.loginPage)
	c.mux.HandleFunc("POST /ui/login", c.login)
	c.mux.HandleFunc("POST /ui/logout", c.action(c.logout))
	c.mux.HandleFunc("GET /ui/{$}", c.authed(c.campaigns))
	c.mux.HandleFunc("GET /ui/campaigns/{id}", c.authed(c.campaign))
	c.mux.HandleFunc("GET /ui/campaigns/{id}/live", c.authed(c.campaignLive))
	c.mux.HandleFunc("GET /ui/campaigns/{id}/export", c.authed(c.export))
	c.mux.HandleFunc("GET /ui/campaigns/{id}/cancel", c.authed(c.confirmCancel))
	c.mux.HandleFunc("GET /ui/campaigns/{id}/follow-up", c.authed(c.followUpForm))
	c.mux.HandleFunc("POST /ui/campaigns/{id}/pause", c.action(c.control(c.cfg.Producer.Pause, "paused")))
	c.mux.HandleFunc("POST /ui/campaigns/{id}/resume", c.action(c.control(c.cfg.Producer.Resume, "resumed")))
	c.mux.HandleFunc("GET /ui/campaigns/{id}/seal", c.authed(c.confirmSeal))
	c.mux.HandleFunc("POST /ui/campaigns/{id}/seal", c.action(c.seal))
	c.mux.HandleFunc("POST /ui/campaigns/{id}/cancel", c.action(c.cancel))
	c.mux.HandleFunc("POST /ui/campaigns/{id}/follow-up", c.action(c.followUp))
	c.mux.HandleFunc("POST /ui/campaigns/{id}/test", c.action(c.testSend))
	c.mux.HandleFunc("GET /ui/senders", c.authed(c.sendersPage))
	c.mux.HandleFunc("GET /ui/senders/{id}/pause", c.authed(c.confirmPauseSender))
	c.mux.HandleFunc("POST /ui/senders/{id}/pause", c.action(c.pauseSender))
	c.mux.HandleFunc("POST /ui/senders/{id}/resume", c.action(c.resumeSender))
	c.mux.HandleFunc("GET /ui/suppressions", c.authed(c.suppressions))
	c.mux.HandleFunc("POST /ui/suppressions/add", c.action(c.suppress))
	c.mux.HandleFunc("POST /ui/suppressions/remove", c.action(c.unsuppress))
	c.mux.HandleFunc("POST /ui/suppressions/import", c.actionMax(c.importSuppressions, c.cfg.MaxUpload))
	c.mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		c.errorPage(w, r, http.StatusNotFound, "no such page: "+r.Method+" "+r.URL.Path)
	})
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
