package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/httpserve"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/progress"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/mmlite/mmlite/worker"
)

// Config is one demo run.
type Config struct {
	Recipients int     // in the sample campaign
	Rate       float64 // the sender's messages per second
	// KeepRunning keeps everything up after the campaign, until ctx ends.
	KeepRunning bool
	Out         io.Writer // the story: what was sent, how to look, the outcomes
	// Progress receives the live progress line; TTY redraws it in place.
	Progress io.Writer
	TTY      bool
	Logger   *slog.Logger
}

// Validate names the first setting that cannot run.
func (c *Config) Validate() error {
	switch {
	case c.Recipients < 1:
		return fmt.Errorf("recipients must be positive, got %d", c.Recipients)
	case c.Rate <= 0:
		return fmt.Errorf("rate must be positive, got %g", c.Rate)
	case c.Out == nil || c.Progress == nil:
		return errors.New("Out and Progress are required")
	}
	return nil
}

// stack holds the running pieces.
type stack struct {
	cfg       Config
	log       *slog.Logger
	fake      *fakeapi.Server
	apiURL    string
	workerURL string
	token     string
	producer  *producer.Producer
	inspector *asynq.Inspector
}

// Run starts everything, sends the sample campaign, shows it and reports.
// Everything stops when Run returns.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d, err := start(ctx, cfg)
	if err != nil {
		return err
	}
	out := cfg.Out
	fmt.Fprintf(out, "\nmmlite demo: %d recipients at %.0f messages/s, on an embedded Redis and the fake 360dialog API\n\n", cfg.Recipients, cfg.Rate)
	sum, err := d.submit(ctx, cfg.Recipients)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "enqueued through the API: %d accepted, %d rejected", sum.Accepted, sum.Rejected)
	for _, e := range sum.Errors {
		fmt.Fprintf(out, "; line %d: %s", e.Line, e.Reason)
	}
	fmt.Fprintf(out, "\n\nwhile it runs:\n  curl -H 'Authorization: Bearer %s' %s/v1/campaigns/%s\n  curl %s/metrics    # the api\n  curl %s/metrics    # the worker\n  %s/ui/campaigns/%s    # the console, in a browser: log in with the token\n\n",
		d.token, d.apiURL, campaignID, d.apiURL, d.workerURL, d.apiURL, campaignID)

	wctx, stop := context.WithTimeout(ctx, 3*time.Minute)
	defer stop()
	final, err := progress.Watch(wctx, cfg.Progress, cfg.TTY, 200*time.Millisecond, func(ctx context.Context) (*campaign.Status, error) {
		return d.producer.Store().Campaigns.Status(ctx, campaignID)
	})
	if err != nil {
		return fmt.Errorf("demo: the campaign did not finish: %w", err)
	}
	final = d.awaitWebhooks(ctx, final)
	d.report(out, final)
	if cfg.KeepRunning {
		fmt.Fprintln(out, "\nstill running (Ctrl-C to stop): the API, the worker and the fake API are up.")
		<-ctx.Done()
	}
	return nil
}

// start starts Redis, the api, the fake API (posting webhooks to the api)
// and a worker, in-process, until ctx ends.
func start(ctx context.Context, cfg Config) (*stack, error) {
	log := cfg.Logger
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return nil, fmt.Errorf("demo: embedded Redis: %w", err)
	}
	context.AfterFunc(ctx, mr.Close)
	opt := asynq.RedisClientOpt{Addr: mr.Addr(), PoolSize: 64}
	rdb := redisconn.Client(opt)

	reg := metrics.NewRegistry()
	reg.MustRegister(metrics.NewQueueCollector(rdb, task.SendQueue, task.DefaultResultsQueue))
	p, err := producer.New(producer.Config{Client: rdb, Registerer: reg, Logger: log})
	if err != nil {
		return nil, err
	}
	d := &stack{cfg: cfg, log: log, token: newToken(), producer: p, inspector: asynq.NewInspectorFromRedisClient(rdb)}
	api, err := httpapi.New(httpapi.Config{Producer: p, Token: d.token, Registerer: reg, Logger: log, WebhookSecret: hookSecret,
		Ready: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }})
	if err != nil {
		return nil, err
	}
	if d.apiURL, err = serve(ctx, api.Handler()); err != nil {
		return nil, err
	}

	if d.fake, err = fakeapi.New(fakeConfig(d.apiURL + "/webhooks/whatsapp")); err != nil {
		return nil, err
	}
	d.fake.Start(ctx)
	context.AfterFunc(ctx, d.fake.Close)
	fakeURL, err := serve(ctx, d.fake)
	if err != nil {
		return nil, err
	}

	s := &sender.Sender{ID: sender.DefaultID, BaseURL: fakeURL, Rate: cfg.Rate, Burst: sender.DefaultBurst(cfg.Rate)}
	s.SetKey(apiKey)
	w, err := worker.New(worker.Config{Redis: opt, Senders: []*sender.Sender{s}, Concurrency: 64, Logger: log,
		HTTPTimeout: 5 * time.Second, ShutdownTimeout: 10 * time.Second, RetryBase: 500 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	if err := w.Start(ctx); err != nil {
		return nil, err
	}
	context.AfterFunc(ctx, w.Shutdown)
	if d.workerURL, err = serve(ctx, metrics.Mux(w.Gatherer(), w.Ready)); err != nil {
		return nil, err
	}
	return d, nil
}

// serve runs h on a free local port until ctx ends and returns its URL.
func serve(ctx context.Context, h http.Handler) (string, error) {
	srv, err := httpserve.Listen("127.0.0.1:0", h, httpserve.Timeouts{})
	if err != nil {
		return "", err
	}
	go func() { _ = srv.Serve(ctx, 2*time.Second) }()
	return "http://" + srv.Addr(), nil
}
