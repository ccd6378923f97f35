package outbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/asynqlog"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/redis/go-redis/v9"
)

// Headers of an outbound POST.
const (
	SignatureHeader   = "X-Mmlite-Signature"   // sha256=<hex HMAC-SHA256 of the body with the destination's secret>
	DeliveryIDHeader  = "X-Mmlite-Delivery-Id" // a relayed webhook's id, the same on every retry
	EventHeader       = "X-Mmlite-Event"       // a callback's task type: mmlite:result, mmlite:status, mmlite:campaign
	IdempotencyHeader = "Idempotency-Key"      // a callback's task id, the same on every retry
)

// Server delivers the outbound tasks: asynq servers of its own, one per
// destination's queue (the callbacks' too), so that it never takes a send
// job's slot, and a slow destination never takes another's.
type Server struct {
	rdb     redis.UniversalClient
	cfg     Config
	log     *slog.Logger
	srvs    []*asynq.Server // one per destination's queue
	hc      *http.Client
	byQueue map[string]*Destination
	m       *deliveryMetrics
	urls    urlCache
	batch   *batcher
}

// NewServer validates cfg and builds the server; it connects to nothing yet.
func NewServer(rdb redis.UniversalClient, cfg Config) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{rdb: rdb, cfg: cfg, log: cfg.Logger, hc: cfg.HTTPClient, byQueue: map[string]*Destination{},
		urls: urlCache{entries: map[string]urlEntry{}}}
	s.batch = newBatcher(s)
	for _, d := range cfg.Destinations {
		s.byQueue[d.Queue()] = d
	}
	if cfg.Callbacks != nil {
		s.byQueue[cfg.CallbackQueue] = cfg.Callbacks
	}
	if s.hc == nil {
		s.hc = newClient(cfg.HTTPTimeout, len(s.byQueue)*cfg.Concurrency+max(cfg.BatchSize, 0))
	}
	var err error
	if s.m, err = newDeliveryMetrics(rdb, cfg); err != nil {
		return nil, err
	}
	// One asynq server per destination, each with its own slots: a slow
	// destination (every POST waiting for its timeout) holds only its own.
	alog := asynqlog.New(cfg.Logger) // one for all, see asynqlog
	for q := range s.byQueue {
		conc := cfg.Concurrency
		if q == cfg.CallbackQueue {
			conc += max(cfg.BatchSize, 0) // room for a whole batch waiting
		}
		s.srvs = append(s.srvs, asynq.NewServerFromRedisClient(rdb, asynq.Config{
			Concurrency:              conc,
			Queues:                   map[string]int{q: 1},
			RetryDelayFunc:           cfg.retryDelay,
			ShutdownTimeout:          cfg.ShutdownTimeout,
			DelayedTaskCheckInterval: cfg.ForwardInterval,
			Logger:                   alog,
			LogLevel:                 asynq.WarnLevel,
		}))
	}
	return s, nil
}

// newClient is the deliveries' HTTP client, for up to slots POSTs at once.
// Redirects are not followed: a 307 or 308 would have the same body and
// signature POSTed wherever the destination points, past the checks on its
// URL (https, MMLITE_CALLBACK_HOSTS). A connection is kept for every slot
// (net/http keeps 2 a host): a destination's POSTs at once would otherwise
// close theirs as they end and dial again, a TLS handshake a delivery.
func newClient(timeout time.Duration, slots int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 0, slots // 0: no limit across hosts (campaigns' callback_url)
	return &http.Client{Timeout: timeout, Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Start starts delivering.
func (s *Server) Start() error {
	for _, srv := range s.srvs {
		if err := srv.Start(asynq.HandlerFunc(s.deliver)); err != nil {
			return fmt.Errorf("outbound: start: %w", err) // Shutdown stops those started
		}
	}
	s.log.Info("outbound deliveries started", "destinations", len(s.cfg.Destinations), "callbacks", s.cfg.Callbacks != nil,
		"max_age", s.cfg.MaxAge)
	return nil
}

// Shutdown stops taking deliveries and lets those in flight finish within
// the shutdown timeout; asynq hands back the others.
func (s *Server) Shutdown() {
	var wg sync.WaitGroup
	for _, srv := range s.srvs {
		wg.Go(srv.Shutdown)
	}
	wg.Wait()
	// The tasks of a batch still open were handed back: it is not sent.
	s.batch.stop()
}

// deliver POSTs one task to its destination.
func (s *Server) deliver(ctx context.Context, t *asynq.Task) error {
	queue, _ := asynq.GetQueueName(ctx)
	id, _ := asynq.GetTaskID(ctx)
	d := s.byQueue[queue]
	if d == nil {
		return fmt.Errorf("outbound: no destination for queue %s: %w", queue, asynq.SkipRetry)
	}
	if t.Type() != TypeRelay && s.batched() {
		if err := s.deliverBatched(ctx, d, id, t.Type(), t.Payload()); err != nil {
			return s.give(ctx, d, t, err)
		}
		s.delivered(ctx, d)
		return nil
	}
	var req *http.Request
	var err error
	if t.Type() == TypeRelay {
		req, err = s.relayRequest(ctx, d, id, t.Payload())
	} else {
		req, err = s.callbackRequest(ctx, d, id, t.Type(), t.Payload())
	}
	var lookup *lookupError
	var refused rejected
	switch {
	case errors.As(err, &lookup), errors.As(err, &refused):
		return s.give(ctx, d, t, err)
	case err != nil:
		// Not a task mmlite wrote as it is: no attempt can make it.
		s.log.Error("outbound delivery cannot be made; archived", "destination", d.Name, "task_id", phone.MaskIn(id), "err", err)
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	if err := s.post(req); err != nil {
		return s.give(ctx, d, t, err)
	}
	s.delivered(ctx, d)
	return nil
}

// delivered counts a delivery, and takes one that had failed out of the
// failing set.
func (s *Server) delivered(ctx context.Context, d *Destination) {
	s.m.delivered.WithLabelValues(d.Name).Inc()
	if n, _ := asynq.GetRetryCount(ctx); n > 0 {
		s.settled(ctx)
	}
}

func (s *Server) relayRequest(ctx context.Context, d *Destination, id string, payload []byte) (*http.Request, error) {
	m, body, err := decodeRelay(payload)
	if err != nil {
		return nil, err
	}
	req, err := newRequest(ctx, d, body, m.ContentType)
	if err != nil {
		return nil, err
	}
	req.Header.Set(DeliveryIDHeader, id)
	if m.Signature != "" {
		req.Header.Set(webhook.SignatureHeader, m.Signature)
	}
	return req, nil
}

func (s *Server) callbackRequest(ctx context.Context, d *Destination, id, typ string, payload []byte) (*http.Request, error) {
	url, err := s.callbackURL(ctx, payload)
	if err != nil {
		return nil, err
	}
	req, err := newRequestTo(ctx, d, url, payload, "application/json")
	if err != nil {
		return nil, err
	}
	req.Header.Set(IdempotencyHeader, idempotencyKey(id))
	req.Header.Set(EventHeader, typ)
	return req, nil
}

// idempotencyKey is a callback's key: its task id on the results queue.
func idempotencyKey(id string) string { return strings.TrimPrefix(id, CallbackIDPrefix) }

func newRequest(ctx context.Context, d *Destination, body []byte, contentType string) (*http.Request, error) {
	return newRequestTo(ctx, d, d.URL, body, contentType)
}

func newRequestTo(ctx context.Context, d *Destination, url string, body []byte, contentType string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("outbound: %s: %w", d.Name, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "mmlite")
	req.Header.Set(SignatureHeader, Sign(d.secret, body))
	return req, nil
}

// Sign is the X-Mmlite-Signature of body.
func Sign(secret string, body []byte) string { return webhook.Sign(secret, body) }

// rejected is a delivery that retrying would not change: a destination's
// 4xx other than 408 and 429, or a callback_url that is not allowed. why
// says what to do about it.
type rejected struct {
	err error
	why string
}

func (r rejected) Error() string { return r.err.Error() }

// post sends one request; a non-2xx answer is an error quoting it.
func (s *Server) post(req *http.Request) error {
	resp, err := s.hc.Do(req)
	if err != nil {
		return fmt.Errorf("outbound: POST: %w", redactURLError(err))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // reuse the connection
	if resp.StatusCode/100 == 2 {
		return nil
	}
	// The answer may quote the body back (a validation error): the
	// customers' numbers in it are masked, as in every log line. asynq
	// keeps the error in the task as a protobuf string, which must be
	// UTF-8 (the snippet may end inside a character, or not be text):
	// otherwise the delivery can be neither archived nor retried.
	answer := strings.ToValidUTF8(strings.TrimSpace(string(snippet)), "\uFFFD")
	err = fmt.Errorf("outbound: answered HTTP %d: %s", resp.StatusCode, phone.MaskIn(answer))
	switch {
	case resp.StatusCode/100 == 3:
		return rejected{err, "redirects are not followed: configure the URL it redirects to"}
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		return rejected{err, "a 4xx is not retried"}
	}
	if after := mmapi.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now(), s.cfg.RetryMax); after > 0 {
		return waitAsked{err, after}
	}
	return err
}

// waitAsked is a failed delivery whose destination asked, with
// Retry-After, to be left alone a while (capped by RetryMax): its next
// attempt waits that long if the backoff is shorter (see retryDelay).
type waitAsked struct {
	err   error
	after time.Duration
}

func (w waitAsked) Error() string { return w.err.Error() }
func (w waitAsked) Unwrap() error { return w.err }

// give says what becomes of a failed delivery: archived with the answer
// when the destination refused it for good, or when its next attempt would
// come after MaxAge; retried otherwise. A refused one is retried too while
// the destination's archive is full (it holds ArchiveRoom): asynq would
// make room by deleting the oldest archived deliveries for good, and a
// destination that refuses everything (a rotated secret) fills it in
// minutes. Fixed, the destination takes the retries; replayed, the archive
// has room again.
//
// A delivery whose context was canceled is no failed attempt: asynq
// cancels it once it has handed it back at shutdown (or an operator
// canceled it), and the destination did nothing wrong.
func (s *Server) give(ctx context.Context, d *Destination, t *asynq.Task, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		s.log.Debug("outbound delivery canceled (handed back at shutdown, or canceled in asynq)", "destination", d.Name, "err", err)
		return err
	}
	s.m.failed.WithLabelValues(d.Name).Inc()
	n, _ := asynq.GetRetryCount(ctx)
	var r rejected
	refused := errors.As(err, &r)
	archived := s.cfg.expired(n, err) || refused && !s.archiveFull(ctx)
	switch {
	case archived && n > 0:
		s.settled(ctx)
	case !archived:
		s.failed(ctx, t, n)
	}
	switch {
	case refused && !archived:
		s.log.Warn("outbound delivery refused; the destination's archive is full, so it is retried until MMLITE_RELAY_MAX_AGE: replay the archive",
			"destination", d.Name, "archive_room", s.cfg.ArchiveRoom, "retry", n+1, "in", s.cfg.retryDelay(n, err, nil), "err", err)
		return err
	case refused:
		s.log.Warn("outbound delivery refused; archived", "destination", d.Name, "err", err)
		return fmt.Errorf("%w (archived: %s): %w", err, r.why, asynq.SkipRetry)
	case s.cfg.expired(n, err):
		s.log.Warn("outbound delivery failed for too long; archived", "destination", d.Name, "max_age", s.cfg.MaxAge, "err", err)
		return fmt.Errorf("%w (archived after %s of retries): %w", err, s.cfg.MaxAge, asynq.SkipRetry)
	}
	s.log.Info("outbound delivery failed; will retry", "destination", d.Name, "retry", n+1, "in", s.cfg.retryDelay(n, err, nil), "err", err)
	return err
}

// archiveFull says whether the delivery's queue holds ArchiveRoom archived
// deliveries; true when it cannot tell (archiving then could lose one).
func (s *Server) archiveFull(ctx context.Context) bool {
	queue, _ := asynq.GetQueueName(ctx)
	n, err := s.rdb.ZCard(ctx, keyspace.New(queue).AsynqArchived()).Result()
	return err != nil || n >= int64(s.cfg.ArchiveRoom)
}

// failed puts a delivery that failed and is to be retried, after retried
// retries, in its queue's failing set (see Backlog), by when it was first
// stored: the time its relay task carries. A callback, or a webhook stored
// by a version before the time was kept, is put in by now less the backoff
// it waited through, the earliest so reckoned kept (ZADD LT): its first
// failure, or further back for one that failed before an upgrade.
func (s *Server) failed(ctx context.Context, t *asynq.Task, retried int) {
	at := time.Now().Add(-s.cfg.elapsed(retried))
	if t.Type() == TypeRelay {
		if m, _, err := decodeRelay(t.Payload()); err == nil && m.Stored > 0 {
			at = time.UnixMilli(m.Stored)
		}
	}
	queue, _ := asynq.GetQueueName(ctx)
	id, _ := asynq.GetTaskID(ctx)
	z := redis.Z{Score: float64(at.UnixMilli()), Member: id}
	if err := s.rdb.ZAddLT(ctx, keyspace.New(queue).Failing(), z).Err(); err != nil {
		s.ageNotKept(queue, id, err)
	}
}

// settled takes a delivery that had failed out of its queue's failing set:
// delivered or archived. One that never failed was never put in.
func (s *Server) settled(ctx context.Context) {
	queue, _ := asynq.GetQueueName(ctx)
	id, _ := asynq.GetTaskID(ctx)
	if err := s.rdb.ZRem(ctx, keyspace.New(queue).Failing(), id).Err(); err != nil {
		s.ageNotKept(queue, id, err)
	}
}

// ageNotKept logs a failing set not written; a callback's task id names
// its recipient, masked.
func (s *Server) ageNotKept(queue, id string, err error) {
	s.log.Warn("outbound delivery's age not kept", "queue", queue, "task_id", phone.MaskIn(id), "err", err)
}

// retryDelay is asynq's RetryDelayFunc: asynq counts the retries done
// (from 0 at the first failure), delay the failed attempts (from 1).
func (c Config) retryDelay(retried int, err error, _ *asynq.Task) time.Duration {
	d := c.delay(retried + 1)
	if w := (waitAsked{}); errors.As(err, &w) {
		d = max(d, w.after)
	}
	return d
}

// redactURLError drops the URL from a client error: it may hold a secret.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
