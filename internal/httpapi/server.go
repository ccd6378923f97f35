package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/authlimit"
	"github.com/mmlite/mmlite/internal/clientip"
	"github.com/mmlite/mmlite/internal/emit"
	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/httpserve"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is everything the API needs.
type Config struct {
	Producer *producer.Producer
	// Token is required on every /v1 request as "Authorization: Bearer <token>".
	Token string
	// AllowNoAuth must be set to serve /v1 without a token.
	AllowNoAuth bool
	// MaxBody limits POST /v1/campaigns; MaxUpload limits recipient uploads.
	MaxBody   int64
	MaxUpload int64
	// Registerer receives the api's metrics (and the producer's, when it
	// was given the same); /metrics serves it when it is also a Gatherer.
	// A new registry when nil.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Ready is /readyz; nil means always ready.
	Ready metrics.Check
	// ResultsQueue receives mmlite:status tasks; default task.DefaultResultsQueue.
	ResultsQueue string
	// WebhookSecret is required in X-Webhook-Secret (360dialog) when set.
	WebhookSecret string
	// AppSecret verifies X-Hub-Signature-256 (Meta) when set. With neither
	// secret, webhooks are refused unless AllowNoAuth.
	AppSecret string
	// VerifyToken answers Meta's GET handshake; default WebhookSecret.
	VerifyToken    string
	MaxWebhookBody int64 // default 8 MiB
	// MaxIntake is how many intake requests (POST /v1/campaigns and
	// POST /v1/campaigns/{id}/recipients) read their body at once; the
	// others wait. Default DefaultMaxIntake.
	MaxIntake int
	// LargeWebhooks is how many webhook bodies over SmallWebhook bytes are
	// read at once; the others wait. Default DefaultLargeWebhooks.
	LargeWebhooks int
	// LargeWebhookRead is how long a large webhook may take to start
	// arriving once it holds a slot, before it must keep
	// MinLargeWebhookRate; a client that stalls past it is refused and the
	// slot freed (it must not hold the provider's batches back). Default
	// DefaultLargeWebhookRead.
	LargeWebhookRead time.Duration
	// MaxValue is the largest JSON value of a POST /v1/campaigns body (the
	// campaign, one recipient, with the white space before it), and the
	// most recipients held when they come before their campaign. Default
	// DefaultMaxValue.
	MaxValue int64
	// ReadTimeout is how long a request may take to arrive, its headers
	// and body, unless it carries the api's token or a console session:
	// those get httpserve.LongRead once they are checked (an upload of a
	// large list), so that a client that has proved nothing cannot hold a
	// connection open (a stalled body on any route, the webhook's too).
	// Default DefaultReadTimeout.
	ReadTimeout time.Duration
	// DisableUI turns the console at /ui/ off (MMLITE_UI=false).
	DisableUI bool
	// TrustedProxies are the proxies (an Ingress, a load balancer) whose
	// X-Forwarded-For tells the console's login limit who the client is
	// (MMLITE_TRUSTED_PROXIES); none: the connection's address.
	TrustedProxies clientip.Proxies
	// Guard tunes the protections webhooks and /v1/suppressions act on
	// (see package guard).
	Guard guard.Config
	// Destinations receive every authenticated webhook, relayed (see
	// package outbound); none: no relay.
	Destinations []*outbound.Destination
}

// refusesWebhooks: with no secret to check them by, every webhook is
// refused (unless AllowNoAuth).
func (c *Config) refusesWebhooks() bool {
	return c.WebhookSecret == "" && c.AppSecret == "" && !c.AllowNoAuth
}

// relayAuthenticated refuses to relay unauthenticated webhooks (no secret,
// --insecure-no-auth) off this machine: the destination would receive
// them signed with its secret, as if the provider had sent them, though
// anyone who reached the api could have written them.
func (c *Config) relayAuthenticated() error {
	if !c.AllowNoAuth || c.WebhookSecret != "" || c.AppSecret != "" {
		return nil
	}
	for _, d := range c.Destinations {
		if !safeurl.OnLoopback(d.URL) {
			return fmt.Errorf("relay destination %q is not on this machine, and --insecure-no-auth without MMLITE_WEBHOOK_SECRET "+
				"or MMLITE_META_APP_SECRET takes any POST as a webhook: it would reach %q signed as if the provider had sent it; "+
				"set a webhook secret, or relay to a loopback address only", d.Name, d.Name)
		}
	}
	return nil
}

// Defaults.
const (
	DefaultMaxBody   = 64 << 20
	DefaultMaxUpload = 1 << 30
	// DefaultMaxWebhookBody fits 1,000 statuses, Meta's largest batch, many times.
	DefaultMaxWebhookBody = 8 << 20
	// DefaultMaxIntake bounds the api's memory (see MaxIntake) while
	// leaving room for several clients, each already streaming its rows
	// through several Redis writers.
	DefaultMaxIntake = 8
	// SmallWebhook is the largest webhook body read without waiting for
	// one of the LargeWebhooks slots: a provider's usual batch is a few KiB.
	SmallWebhook = 64 << 10
	// DefaultLargeWebhooks: large webhook bodies are rare.
	DefaultLargeWebhooks = 4
	// DefaultLargeWebhookRead: a provider sends from a data centre.
	DefaultLargeWebhookRead = 10 * time.Second
	// DefaultReadTimeout: a request that proved nothing (a webhook, a
	// login, a wrong token) is small and comes at once.
	DefaultReadTimeout = 30 * time.Second
	// DefaultMaxValue bounds a JSON value like a row of a recipients file.
	DefaultMaxValue = producer.MaxLine
)

// Server serves the API.
type Server struct {
	cfg      Config
	log      *slog.Logger
	token    [32]byte
	logins   *authlimit.Limiter // wrong tokens per client, on /v1 and at the console's login
	mux      *http.ServeMux
	methods  map[string][]string // a route's path → the methods its routes take (see refuseOtherMethods)
	reqs     *prometheus.CounterVec
	dur      *prometheus.HistogramVec
	wm       *webhookMetrics
	guard    *guard.Guard
	senders  *registry.Registry
	emit     *emit.Emitter       // status events, over the intake's client (see intakeClient)
	gatherer prometheus.Gatherer // what /metrics serves
	intake   chan struct{}       // a slot per intake request reading its body
	hooks    chan struct{}       // a slot per large webhook body
	relay    *outbound.Relay     // nil without destinations; over the intake's client
	// relayLarge stores bodies over SmallWebhook, on a connection of
	// their own rather than in the intake's shared pipelines.
	relayLarge *outbound.Relay

	// deliveries is the store's, over the intake's client.
	deliveries store.Deliveries
	// fuse: a status task is enqueued in the step that records its event
	// (a single Redis node, see store.Delivery.Task).
	fuse bool
}

// WithDefaults fills the zero fields: the one place defaults are set.
func (c Config) WithDefaults() Config {
	def := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxBody, DefaultMaxBody)
	def(&c.MaxUpload, DefaultMaxUpload)
	def(&c.MaxWebhookBody, DefaultMaxWebhookBody)
	def(&c.MaxValue, DefaultMaxValue)
	if c.MaxIntake == 0 {
		c.MaxIntake = DefaultMaxIntake
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.LargeWebhookRead == 0 {
		c.LargeWebhookRead = DefaultLargeWebhookRead
	}
	if c.LargeWebhooks == 0 {
		c.LargeWebhooks = DefaultLargeWebhooks
	}
	if c.ResultsQueue == "" {
		c.ResultsQueue = task.DefaultResultsQueue
	}
	// A token or secret set from a secret's file keeps its newline, which
	// no request could present: trimmed, as the senders' keys are.
	for _, v := range []*string{&c.Token, &c.WebhookSecret, &c.AppSecret, &c.VerifyToken} {
		*v = strings.TrimSpace(*v)
	}
	if c.VerifyToken == "" {
		c.VerifyToken = c.WebhookSecret
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate checks the config (with its defaults), naming the setting.
func (c Config) Validate() error {
	c = c.WithDefaults()
	positive := func(name string, v int64) error {
		if v < 1 {
			return fmt.Errorf("%s is %d: it must be at least 1", name, v)
		}
		return nil
	}
	switch {
	case c.Producer == nil:
		return errors.New("a producer is required")
	case c.Token == "" && !c.AllowNoAuth:
		return errors.New("MMLITE_API_TOKEN is empty: set it, or pass --insecure-no-auth to serve /v1 without authentication")
	}
	if err := c.relayAuthenticated(); err != nil {
		return err
	}
	return errors.Join(positive("MMLITE_MAX_BODY", c.MaxBody), positive("MMLITE_MAX_UPLOAD", c.MaxUpload),
		positive("MMLITE_MAX_WEBHOOK_BODY", c.MaxWebhookBody), positive("MMLITE_MAX_INTAKE", int64(c.MaxIntake)),
		positive("LargeWebhooks", int64(c.LargeWebhooks)), positive("LargeWebhookRead", int64(c.LargeWebhookRead)),
		positive("ReadTimeout", int64(c.ReadTimeout)), positive("MaxValue", c.MaxValue), c.Guard.Validate())
}

// New checks the config and builds the routes.
func New(cfg Config) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	reg, gatherer := metrics.Registries(cfg.Registerer)
	rdb := cfg.Producer.Redis()
	// The webhook intake's Redis work goes through an autopipelining
	// client: concurrent webhooks share round trips (see intakeClient).
	ap := intakeClient(rdb)
	s := &Server{cfg: cfg, log: cfg.Logger, token: sha256.Sum256([]byte(cfg.Token)), logins: authlimit.New(authlimit.MaxClients), mux: http.NewServeMux(),
		methods: map[string][]string{},
		intake:  make(chan struct{}, cfg.MaxIntake), hooks: make(chan struct{}, cfg.LargeWebhooks),
		senders: registry.New(rdb, cfg.Producer.Store().Campaigns.Keys()).WithRetention(cfg.Producer.Store().Campaigns.Retention()),
		emit:    emit.New(ap, cfg.ResultsQueue, cfg.Producer.Store().Campaigns.Retention()).Like(cfg.Producer.Emitter()),
		relay:   outbound.NewRelay(ap, cfg.Destinations), relayLarge: outbound.NewRelay(rdb, cfg.Destinations),
		deliveries: cfg.Producer.Store().Deliveries.Via(ap), fuse: !isCluster(rdb)}
	s.guard = guard.New(rdb, cfg.Producer.Store(), cfg.Guard).Counting(cfg.Producer.CountPaused)
	if cfg.refusesWebhooks() {
		s.log.Warn("no webhook secret: POST /webhooks/whatsapp answers 401 to every webhook; " +
			"set MMLITE_WEBHOOK_SECRET (360dialog) or MMLITE_META_APP_SECRET (Meta)")
	}
	if cfg.AppSecret != "" && cfg.VerifyToken == "" {
		s.log.Warn("no webhook verify token: Meta's subscription handshake (GET /webhooks/whatsapp) answers 403, so the " +
			"callback URL cannot be verified; set MMLITE_WEBHOOK_VERIFY_TOKEN to the Verify token of the App Dashboard")
	}
	var err error
	if s.wm, err = newWebhookMetrics(reg, s.senders); err != nil {
		return nil, err
	}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_http_requests_total",
		Help: "HTTP requests to the api, by route and status code."}, []string{"route", "code"})
	s.dur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mmlite_http_request_duration_seconds",
		Help: "Duration of HTTP requests to the api, by route.", Buckets: prometheus.DefBuckets}, []string{"route"})
	if err := metrics.Register(reg, s.reqs, s.dur, newGuardCollector(s.senders, s.guard)); err != nil {
		return nil, err
	}
	s.gatherer = gatherer
	s.routes()
	if err := s.mountConsole(); err != nil {
		return nil, err
	}
	s.refuseOtherMethods()
	return s, nil
}

func (s *Server) routes() {
	// Each route names the query parameters it takes (see takesParams).
	v1 := func(pattern string, h http.HandlerFunc, params ...string) {
		s.handle(pattern, s.auth(takesParams(pattern, h, params)))
	}
	// A control reads no body (see takesNoBody).
	ctl := func(pattern string, h http.HandlerFunc) { v1(pattern, takesNoBody(pattern, h)) }
	v1("POST /v1/campaigns", s.createCampaign)
	v1("GET /v1/campaigns", s.listCampaigns, "state", "limit", "cursor")
	v1("GET /v1/campaigns/{id}/recipients/{to}", s.getRecipient)
	v1("GET /v1/campaigns/{id}/results", s.getResults, "status", "code")
	v1("POST /v1/campaigns/{id}/follow-up", s.followUp)
	v1("POST /v1/campaigns/{id}/test", s.testSend)
	v1("POST /v1/campaigns/{id}/recipients", s.addRecipients)
	v1("GET /v1/campaigns/{id}", s.getCampaign)
	ctl("POST /v1/campaigns/{id}/pause", s.control(s.cfg.Producer.Pause))
	ctl("POST /v1/campaigns/{id}/resume", s.control(s.cfg.Producer.Resume))
	ctl("POST /v1/campaigns/{id}/cancel", s.control(s.cfg.Producer.Cancel))
	ctl("POST /v1/campaigns/{id}/seal", s.control(s.cfg.Producer.Seal))
	v1("GET /v1/senders", s.listSenders)
	v1("GET /v1/senders/{id}", s.getSender)
	s.guardRoutes(v1, ctl)
	s.handle("POST /webhooks/whatsapp", s.receive)
	s.handle("GET /webhooks/whatsapp", s.verify)
	m := metrics.Mux(s.gatherer, s.cfg.Ready)
	for _, p := range []string{"GET /metrics", "GET /healthz", "GET /readyz"} {
		s.handle(p, m.ServeHTTP)
	}
	// An unknown path; a route's path with another method is a 405 (see
	// refuseOtherMethods).
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
}

func (s *Server) store() *store.Store { return s.cfg.Producer.Store() }

// waitIntake waits for one of the MaxIntake slots of intake requests, so
// that however many clients send at once, only so many bodies are read at
// a time; the others wait, still connected, until a slot frees or they
// give up. release frees the slot.
func (s *Server) waitIntake(ctx context.Context) (release func(), err error) {
	return wait(ctx, s.intake)
}

func wait(ctx context.Context, slots chan struct{}) (func(), error) {
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// Handler returns the API's handler.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") && !cleanSegments(r.URL.EscapedPath()) {
			// ServeMux would redirect to the path cleaned up, which drops
			// the empty segment of an id left out: /v1/campaigns//results
			// would read the campaign "results".
			writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.EscapedPath()+
				`: a part of the path is empty, "." or "..": is an id missing?`)
			return
		}
		s.mux.ServeHTTP(w, r)
	})
}

// cleanSegments says whether no segment of path (but a last one, of a
// trailing slash) is empty, "." or "..".
func cleanSegments(path string) bool {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, seg := range segs {
		if seg == "." || seg == ".." || seg == "" && i < len(segs)-1 {
			return false
		}
	}
	return true
}

// handle registers a route with metrics, access logs and panic recovery.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	route := pattern[strings.IndexByte(pattern, ' ')+1:]
	if method, _, ok := strings.Cut(pattern, " "); ok {
		s.methods[route] = append(s.methods[route], method)
	}
	for _, code := range []string{"200", "202", "400", "401", "403", "404", "409", "413", "415", "422", "500"} {
		s.reqs.WithLabelValues(route, code)
	}
	// The route's own series, found once: webhooks come by the thousand.
	ok, dur := s.reqs.WithLabelValues(route, "200"), s.dur.WithLabelValues(route)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &statusWriter{ResponseWriter: w, code: http.StatusOK, ctx: r.Context()}
		defer func() {
			p := recover()
			if p == http.ErrAbortHandler {
				// A streamed answer broke off: net/http closes the
				// connection, so that the client sees it cut short.
				s.reqs.WithLabelValues(route, "500").Inc()
				panic(p)
			}
			if p != nil {
				s.log.Error("panic serving request", "route", route, "panic", p)
				if !rw.wrote {
					writeError(rw, http.StatusInternalServerError, "internal error")
				}
			}
			if rw.code == http.StatusOK {
				ok.Inc()
			} else {
				s.reqs.WithLabelValues(route, itoa(rw.code)).Inc()
			}
			dur.Observe(time.Since(start).Seconds())
			if level := requestLevel(rw.code); route != "/metrics" && route != "/healthz" && route != "/readyz" && s.log.Enabled(r.Context(), level) {
				s.log.Log(r.Context(), level, "request", "method", r.Method, "route", route,
					"status", rw.code, "duration_ms", time.Since(start).Milliseconds())
			}
		}()
		h(rw, r)
	})
}

// requestLevel is the level of a request's log line. A request that went
// well is routine (webhooks alone come by the thousand): debug. A 4xx is a
// client or provider doing something wrong that someone may have to fix (a
// wrong token or webhook secret, a bad body): info, and rare when all is
// well. A 5xx is a warning; its cause has an ERROR line of its own.
func requestLevel(code int) slog.Level {
	switch {
	case code >= 500:
		return slog.LevelWarn
	case code >= 400:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// auth requires the bearer token, compared in constant time; a request
// that carries it may take httpserve.LongRead to arrive (an upload).
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	if s.cfg.Token == "" {
		return func(w http.ResponseWriter, r *http.Request) {
			httpserve.AllowLongRead(w)
			h(w, r)
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := bearerToken(r.Header.Get("Authorization"))
		sum := sha256.Sum256([]byte(got))
		wrong := !ok || subtle.ConstantTimeCompare(sum[:], s.token[:]) != 1
		// A request without a token guesses nothing: it spends nothing.
		if wait := s.logins.Check(authlimit.ClientOf(r, s.cfg.TrustedProxies), time.Now(), ok && wrong); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(authlimit.RetryAfter(wait)))
			writeError(w, http.StatusTooManyRequests, "too many wrong tokens from this address: wait before trying again")
			return
		}
		if wrong {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mmlite"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token (Authorization: Bearer <MMLITE_API_TOKEN>)")
			return
		}
		httpserve.AllowLongRead(w)
		h(w, r)
	}
}

// bearerToken reads "Bearer <token>". The scheme is case-insensitive and
// may be followed by several spaces (RFC 7235, section 2.1).
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

// Serve listens on addr until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, addr string, grace time.Duration) error {
	srv, err := s.Listen(addr)
	if err != nil {
		return err
	}
	s.log.Info("api listening", "addr", srv.Addr())
	if err := srv.Serve(ctx, grace); err != nil {
		return err
	}
	s.log.Info("api stopped") // its requests done: a graceful stop, not a crash
	return nil
}

// Listen binds addr with the api's timeouts, for Serve.
func (s *Server) Listen(addr string) (*httpserve.Server, error) {
	srv, err := httpserve.Listen(addr, s.Handler(), httpserve.Timeouts{Read: s.cfg.ReadTimeout, Write: httpserve.LongRead})
	if err != nil {
		return nil, fmt.Errorf("MMLITE_HTTP_ADDR (--http-addr): %w", err)
	}
	return srv, nil
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
	ctx   context.Context // the request's (see requestCause)
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
