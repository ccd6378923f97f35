package fakeapi

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Server is the fake API. It is an http.Handler and safe for concurrent use.
// Create it with New.
type Server struct {
	settings atomic.Pointer[settings]

	limMu    sync.Mutex // guards limiters and the settings swap
	limiters map[string]*rate.Limiter

	rngMu sync.Mutex
	rng   *rand.Rand

	ids    *wamidGen
	rec    *recorder
	queue  *eventQueue
	client *http.Client

	runMu       sync.Mutex
	cancel      context.CancelFunc
	closed      bool
	wg          sync.WaitGroup
	dispatching atomic.Bool
	flushEvery  time.Duration

	done      chan struct{} // closed by Close: releases hanging requests
	closeOnce sync.Once
}

// settings is an immutable snapshot of a Config with defaults applied.
type settings struct {
	cfg            Config
	keys           map[string]bool
	templates      map[string]bool
	webhookDelay   time.Duration
	deliveredShare float64
	readShare      float64
	category       string
	phoneID        string
	displayPhone   string
	wabaID         string
	burst          int
}

func newSettings(cfg Config) *settings {
	st := &settings{
		cfg:            cfg.clone(),
		keys:           toSet(cfg.Keys),
		templates:      toSet(cfg.Templates),
		webhookDelay:   time.Duration(cfg.WebhookDelay),
		deliveredShare: defaultDeliveredShare,
		readShare:      defaultReadShare,
		category:       or(cfg.PricingCategory, defaultPricingCategory),
		phoneID:        or(cfg.PhoneNumberID, defaultPhoneNumberID),
		displayPhone:   or(cfg.DisplayPhoneNumber, defaultDisplayPhone),
		wabaID:         or(cfg.WABAID, defaultWABAID),
		burst:          cfg.RateBurst,
	}
	if st.webhookDelay == 0 {
		st.webhookDelay = defaultWebhookDelay
	}
	if cfg.DeliveredShare != nil {
		st.deliveredShare = *cfg.DeliveredShare
	}
	if cfg.ReadShare != nil {
		st.readShare = *cfg.ReadShare
	}
	if st.burst == 0 {
		st.burst = 1
	}
	return st
}

func toSet(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, v := range list {
		m[v] = true
	}
	return m
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// New validates cfg and returns a Server behaving as it says.
func New(cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	s := &Server{
		limiters:   make(map[string]*rate.Limiter),
		ids:        newWamidGen(),
		rec:        newRecorder(defaultMaxRecords),
		queue:      newEventQueue(defaultMaxPending),
		client:     &http.Client{Timeout: 5 * time.Second, Transport: transport},
		flushEvery: defaultFlushEvery,
		done:       make(chan struct{}),
	}
	s.install(cfg)
	return s, nil
}

// SetConfig validates cfg and, when valid, replaces the current
// configuration. Rate limiters start afresh and the random generator is
// reseeded from cfg.Seed; records and pending webhooks are kept.
func (s *Server) SetConfig(cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	s.install(cfg)
	return nil
}

func (s *Server) install(cfg Config) {
	st := newSettings(cfg)
	s.rngMu.Lock()
	s.rng = newRand(cfg.Seed)
	s.rngMu.Unlock()
	s.limMu.Lock()
	s.settings.Store(st)
	clear(s.limiters)
	s.limMu.Unlock()
}

// Config returns a copy of the current configuration, as it was set
// (defaults are not filled in).
func (s *Server) Config() Config {
	return s.settings.Load().cfg.clone()
}

// Start starts the webhook dispatcher in a goroutine and returns at once.
// The dispatcher stops when ctx is done or on Close. Calling Start on a
// started or closed Server does nothing.
func (s *Server) Start(ctx context.Context) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	if s.closed || s.cancel != nil {
		return
	}
	ctx, s.cancel = context.WithCancel(ctx)
	s.dispatching.Store(true)
	s.wg.Add(1)
	go s.dispatch(ctx)
}

// Close stops the webhook dispatcher and waits for it, drops pending
// webhooks and releases requests that hang on purpose (their connection is
// closed). Requests keep being served, without webhooks.
func (s *Server) Close() {
	s.runMu.Lock()
	s.closed = true
	cancel := s.cancel
	s.runMu.Unlock()
	if cancel != nil {
		cancel()
	}
	s.wg.Wait()
	s.closeOnce.Do(func() { close(s.done) })
	s.client.CloseIdleConnections()
}

// ServeHTTP serves the send endpoints and the /_fake/ control endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_fake/") {
		s.serveControl(w, r)
		return
	}
	fl, ok := route(r.URL.Path)
	if !ok {
		s.notFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		e := apiError{
			status:  http.StatusMethodNotAllowed,
			code:    100,
			message: "(#100) Unsupported " + strings.ToLower(r.Method) + " request",
			details: "Only POST is supported on " + r.URL.Path,
		}
		s.write(w, s.errorOutcome(fl, e))
		return
	}
	s.handleSend(w, r, fl)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	e := apiError{
		status:  http.StatusNotFound,
		code:    100,
		message: "(#100) Unknown path components: " + r.URL.Path,
		details: "Unknown path " + r.Method + " " + r.URL.Path,
	}
	s.write(w, s.errorOutcome(flavorMeta, e))
}

// flavor tells which provider's conventions a request follows.
type flavor int

const (
	flavor360  flavor = iota // 360dialog: D360-API-KEY, wrapped errors
	flavorMeta               // Meta Graph: bearer token, plain Graph errors
)

// route maps a path to the flavor of send endpoint it names.
func route(path string) (flavor, bool) {
	if path == "/marketing_messages" {
		return flavor360, true
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	switch {
	case len(parts) == 2 && isDigits(parts[0]) && parts[1] == "marketing_messages":
		return flavorMeta, true
	case len(parts) == 3 && isVersion(parts[0]) && isDigits(parts[1]) && parts[2] == "marketing_messages":
		return flavorMeta, true
	}
	return 0, false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isVersion reports whether s looks like a Graph version: v23 or v23.0.
func isVersion(s string) bool {
	v, ok := strings.CutPrefix(s, "v")
	if !ok {
		return false
	}
	major, minor, hasMinor := strings.Cut(v, ".")
	return isDigits(major) && (!hasMinor || isDigits(minor))
}

// allow takes a token from key's bucket; it always allows when no rate
// limit is configured.
func (s *Server) allow(key string) bool {
	s.limMu.Lock()
	st := s.settings.Load()
	if st.cfg.RateLimit <= 0 {
		s.limMu.Unlock()
		return true
	}
	lim, ok := s.limiters[key]
	if !ok {
		lim = rate.NewLimiter(rate.Limit(st.cfg.RateLimit), st.burst)
		s.limiters[key] = lim
	}
	s.limMu.Unlock()
	return lim.Allow()
}

// resetLimiters gives every key a fresh bucket.
func (s *Server) resetLimiters() {
	s.limMu.Lock()
	clear(s.limiters)
	s.limMu.Unlock()
}
