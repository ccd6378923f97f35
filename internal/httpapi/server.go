package httpapi

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/mmlite/mmlite/internal/authlimit"
	"github.com/mmlite/mmlite/internal/emit"
	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/httpserve"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/prometheus/client_golang/prometheus"
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
