package main

import (
	"context"
	"sync"
	"time"

	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/worker"
	"github.com/urfave/cli/v3"
)

func workerCommand() *cli.Command {
	return &cli.Command{
		Name:  "worker",
		Usage: "consume send jobs, call /marketing_messages, emit results and metrics; stops gracefully on SIGTERM",
		Flags: append(append(append(senderFlags(), relayFlags()...), deliveryFlags()...),
			&cli.IntFlag{Name: "concurrency", Value: worker.DefaultConcurrency, Sources: env("CONCURRENCY"),
				Usage: "concurrent sends per worker process"},
			&cli.IntFlag{Name: "dequeuers", Sources: env("DEQUEUERS"), DefaultText: "one per 6 of --concurrency, 1 to 16",
				Usage: "asynq servers sharing --concurrency, each dequeuing one job per Redis round trip"},
			&cli.StringFlag{Name: "metrics-addr", Value: ":9090", Sources: env("METRICS_ADDR"),
				Usage: "listen address for /metrics, /healthz and /readyz"},
			&cli.DurationFlag{Name: "http-timeout", Value: worker.DefaultHTTPTimeout, Sources: env("HTTP_TIMEOUT"),
				Usage: "timeout of one API call; a call that times out after the request was written is reported unknown"},
			&cli.DurationFlag{Name: "shutdown-timeout", Value: worker.DefaultShutdownTimeout, Sources: env("SHUTDOWN_TIMEOUT"),
				Usage: "on SIGTERM, how long in-flight sends may finish before their jobs are handed back; above --http-timeout plus --max-wait"},
			&cli.DurationFlag{Name: "max-wait", Value: worker.DefaultMaxWait, Sources: env("MAX_WAIT"),
				Usage: "longest wait for a rate-limit slot inside a job before it goes back to the queue"},
			&cli.BoolFlag{Name: "at-least-once", Sources: env("AT_LEAST_ONCE"),
				Usage: "resend when an earlier attempt's outcome is unknown (may send a recipient twice)"},
			&cli.FloatFlag{Name: "pause-failure-ratio", Value: worker.DefaultPauseFailureRatio, Sources: env("PAUSE_FAILURE_RATIO"),
				Usage: "pause a campaign when this share of its sends failed permanently (negative: never)"},
			&cli.IntFlag{Name: "pause-min-sends", Value: worker.DefaultPauseMinSends, Sources: env("PAUSE_MIN_SENDS"),
				Usage: "sends needed, since the campaign started or was resumed, before the share of failures is judged"},
			&cli.DurationFlag{Name: "unknown-window", Value: worker.DefaultUnknownWindow, Sources: env("UNKNOWN_WINDOW"),
				Usage: "how long after an attempt whose outcome is unknown a status webhook of its message may resolve it to sent (negative: never)"},
			&cli.DurationFlag{Name: "unknown-grace", Value: worker.DefaultUnknownGrace, Sources: env("UNKNOWN_GRACE"),
				Usage: "how long after such an attempt matching waits, so that other attempts to the recipient in flight then have settled"},
		),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			log, err := newLogger(cmd)
			if err != nil {
				return err
			}
			senders, err := loadSenders(cmd, true)
			if err != nil {
				return err
			}
			gc, err := guardConfig(cmd, log)
			if err != nil {
				return err
			}
			if err := refuseZero(cmd, "concurrency", "dequeuers", "http-timeout", "shutdown-timeout", "max-wait", "retention",
				"unknown-window", "unknown-grace", "pause-failure-ratio", "pause-min-sends",
				"results-batch-wait", "relay-max-age", "outbound-concurrency"); err != nil {
				return err
			}
			dequeuers := cmd.Int("dequeuers")
			if dequeuers == 0 { // unset
				dequeuers = worker.DefaultDequeuers(cmd.Int("concurrency"))
			}
			// A connection per job slot and per dequeuer, and some for housekeeping.
			opt, err := redisOpt(cmd, cmd.Int("concurrency")+10+dequeuers)
			if err != nil {
				return err
			}
			cq, noResults, err := emitTargets(cmd)
			if err != nil {
				return err
			}
			// The relayed webhooks and the callbacks go on an asynq server of
			// their own, on their own queues: never in a send job's slot.
			reg := metrics.NewRegistry()
			stop, err := startOutbound(cmd, opt, reg, outbound.Config{Logger: log, CallbackQueue: cq,
				ShutdownTimeout: cmd.Duration("shutdown-timeout")})
			if err != nil {
				return redisErr(cmd, err)
			}
			// On SIGTERM the outbound servers stop with the send servers, not
			// after them: each may take the shutdown timeout, and both must
			// end within it (and before the orchestrator's SIGKILL).
			var once sync.Once
			shutdown := func() { once.Do(stop) }
			cancelAfter := context.AfterFunc(ctx, shutdown)
			defer func() { cancelAfter(); shutdown() }()
			return redisErr(cmd, worker.Run(ctx, worker.Config{
				Redis: opt, Queue: cmd.String("queue"), ResultsQueue: cmd.String("results-queue"), Senders: senders,
				CallbackQueue: cq, NoResultsQueue: noResults, Registerer: reg,
				Concurrency: cmd.Int("concurrency"), Dequeuers: dequeuers, HTTPTimeout: cmd.Duration("http-timeout"),
				ShutdownTimeout: cmd.Duration("shutdown-timeout"), MaxWait: cmd.Duration("max-wait"),
				AtLeastOnce: cmd.Bool("at-least-once"), MetricsAddr: cmd.String("metrics-addr"), Logger: log,
				PauseFailureRatio: cmd.Float("pause-failure-ratio"), PauseMinSends: cmd.Int("pause-min-sends"),
				ForwardInterval: time.Second, Retention: cmd.Duration("retention"),
				UnknownWindow: cmd.Duration("unknown-window"), UnknownGrace: cmd.Duration("unknown-grace"),
				SuppressCodes: gc.SuppressCodes, Cooldown: gc.Cooldown, LimitWindow: gc.LimitWindow,
			}))
		},
	}
}
