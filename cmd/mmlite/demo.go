package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/httpserve"
	"github.com/mmlite/mmlite/pkg/metrics"
	"github.com/mmlite/mmlite/pkg/progress"
	"github.com/mmlite/mmlite/pkg/redisconn"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/mmlite/mmlite/producer/httpapi"
	"github.com/mmlite/mmlite/worker"
	"github.com/urfave/cli/v3"
	"golang.org/x/term"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "everything in one process on an embedded Redis and the fake API: sends a sample campaign and shows it",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "recipients", Value: 300, Usage: "recipients in the sample campaign"},
			&cli.FloatFlag{Name: "rate", Value: 50, Usage: "the sender's messages per second"},
			&cli.BoolFlag{Name: "keep-running", Usage: "keep everything running after the campaign, until Ctrl-C"},
		},
		Action: runDemo,
	}
}

// demo holds the running pieces.
type demo struct {
	log       *slog.Logger
	fake      *fakeapi.Server
	apiURL    string
	workerURL string
	token     string
	producer  *producer.Producer
	inspector *asynq.Inspector
}

func runDemo(ctx context.Context, cmd *cli.Command) error {
	n, rate := cmd.Int("recipients"), cmd.Float("rate")
	if n < 1 || rate <= 0 {
		return cli.Exit("demo: --recipients and --rate must be positive", 1)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d, err := startDemo(ctx, cmd, rate)
	if err != nil {
		return err
	}
	out := cmd.Root().Writer
	fmt.Fprintf(out, "\nmmlite demo: %d recipients at %.0f messages/s, on an embedded Redis and the fake 360dialog API\n\n", n, rate)
	sum, err := d.submit(ctx, n)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "enqueued through the API: %d accepted, %d rejected", sum.Accepted, sum.Rejected)
	for _, e := range sum.Errors {
		fmt.Fprintf(out, "; line %d: %s", e.Line, e.Reason)
	}
	fmt.Fprintf(out, "\n\nwhile it runs:\n  curl -H 'Authorization: Bearer %s' %s/v1/campaigns/%s\n  curl %s/metrics    # the api\n  curl %s/metrics    # the worker\n\n",
		d.token, d.apiURL, demoCampaignID, d.apiURL, d.workerURL)

	wctx, stop := context.WithTimeout(ctx, 3*time.Minute)
	defer stop()
	tty := term.IsTerminal(int(os.Stderr.Fd()))
	final, err := progress.Watch(wctx, os.Stderr, tty, 200*time.Millisecond, func(ctx context.Context) (*campaign.Status, error) {
		return d.producer.Store().Status(ctx, demoCampaignID)
	})
	if err != nil {
		return fmt.Errorf("demo: the campaign did not finish: %w", err)
	}
	final = d.awaitWebhooks(ctx, final, tty)
	d.report(out, final)
	if cmd.Bool("keep-running") {
		fmt.Fprintln(out, "\nstill running (Ctrl-C to stop): the API, the worker and the fake API are up.")
		<-ctx.Done()
	}
	return nil
}

// startDemo starts Redis, the api, the fake API (posting webhooks to the
// api) and a worker, in-process.
func startDemo(ctx context.Context, cmd *cli.Command, rate float64) (*demo, error) {
	log, err := newLogger(cmd)
	if err != nil {
		return nil, err
	}
	if !cmd.IsSet("log-level") {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
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
	d := &demo{log: log, token: demoToken(), producer: p, inspector: asynq.NewInspectorFromRedisClient(rdb)}
	api, err := httpapi.New(httpapi.Config{Producer: p, Token: d.token, Registry: reg, Logger: log, WebhookSecret: demoHookSecret,
		Ready: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }})
	if err != nil {
		return nil, err
	}
	if d.apiURL, err = serve(ctx, api.Handler()); err != nil {
		return nil, err
	}

	if d.fake, err = fakeapi.New(demoFakeConfig(d.apiURL + "/webhooks/whatsapp")); err != nil {
		return nil, err
	}
	d.fake.Start(ctx)
	context.AfterFunc(ctx, d.fake.Close)
	fakeURL, err := serve(ctx, d.fake)
	if err != nil {
		return nil, err
	}

	s := &sender.Sender{ID: sender.DefaultID, BaseURL: fakeURL, Rate: rate, Burst: sender.DefaultBurst(rate)}
	s.SetKey(demoKey)
	w, err := worker.New(worker.Config{Redis: opt, Senders: []*sender.Sender{s}, Concurrency: 64, Logger: log,
		HTTPTimeout: 5 * time.Second, ShutdownTimeout: 10 * time.Second, RetryBase: 500 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	if err := w.Start(ctx); err != nil {
		return nil, err
	}
	context.AfterFunc(ctx, w.Shutdown)
	if d.workerURL, err = serve(ctx, metrics.Mux(w.Registry(), w.Ready)); err != nil {
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
