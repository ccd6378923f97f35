package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/emit"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/producer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/urfave/cli/v3"
)

// relayFlags declare the relay's destinations (api: stores; worker:
// delivers; outbound: inspects).
func relayFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "webhook-forward", Sources: env("WEBHOOK_FORWARD"),
			Usage: "relay every authenticated webhook to this URL (https://, or http:// on loopback), destination \"forward\""},
		&cli.StringFlag{Name: "webhook-forward-secret", Sources: env("WEBHOOK_FORWARD_SECRET"),
			Usage: "secret that signs the webhooks relayed to --webhook-forward (X-Mmlite-Signature)"},
		&cli.StringFlag{Name: "webhook-destinations", Sources: env("WEBHOOK_DESTINATIONS"),
			Usage: "YAML file of relay destinations (name, url, secret_env/secret_file, fields); see docs/configuration.md"},
	}
}

// deliveryFlags are the worker's settings of outbound deliveries.
func deliveryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "results-secret", Sources: env("RESULTS_SECRET"),
			Usage: "secret that signs the callbacks POSTed to MMLITE_RESULTS_URL (X-Mmlite-Signature)"},
		&cli.DurationFlag{Name: "relay-max-age", Value: outbound.DefaultMaxAge, Sources: env("RELAY_MAX_AGE"),
			Usage: "how long a relayed webhook or a callback is retried before it is archived"},
		&cli.IntFlag{Name: "results-batch", Sources: env("RESULTS_BATCH"),
			Usage: "POST callbacks in batches of up to this many events (NDJSON); 0 or 1: one event a POST"},
		&cli.DurationFlag{Name: "results-batch-wait", Value: 200 * time.Millisecond, Sources: env("RESULTS_BATCH_WAIT"),
			Usage: "the longest a batch of callbacks waits for more events before it is sent"},
		&cli.IntFlag{Name: "outbound-concurrency", Value: outbound.DefaultConcurrency, Sources: env("OUTBOUND_CONCURRENCY"),
			Usage: "POSTs at once per relay destination (and for the callbacks) in one worker, apart from the send slots"},
	}
}

func loadDestinations(cmd *cli.Command) ([]*outbound.Destination, error) {
	return loadDestinationsOf(cmd, false)
}

// loadDestinationsOf is loadDestinations; noSecrets reads the names and
// queues only (see outbound.Sources.NoSecrets).
func loadDestinationsOf(cmd *cli.Command, noSecrets bool) ([]*outbound.Destination, error) {
	ds, err := outbound.Load(outbound.Sources{Forward: cmd.String("webhook-forward"), ForwardSecret: cmd.String("webhook-forward-secret"),
		File: cmd.String("webhook-destinations"), NoSecrets: noSecrets, Queue: cmd.String("queue")})
	return ds, unreadable("MMLITE_WEBHOOK_DESTINATIONS", err)
}

// producerConfig is the producer's settings every command shares: the
// queues, where results go, the retention; the caller adds its Redis and
// what only it sets.
func producerConfig(cmd *cli.Command, log *slog.Logger) (producer.Config, error) {
	if err := refuseZero(cmd, "retention"); err != nil {
		return producer.Config{}, err
	}
	cq, noResults, err := emitTargets(cmd)
	if err != nil {
		return producer.Config{}, err
	}
	hosts, err := callbackHosts(cmd)
	if err != nil {
		return producer.Config{}, err
	}
	return producer.Config{Queue: cmd.String("queue"), ResultsQueue: cmd.String("results-queue"), Retention: cmd.Duration("retention"),
		Logger: log, CallbackQueue: cq, NoResultsQueue: noResults, CallbackHosts: hosts}, nil
}

// callbackHosts are the hosts a campaign's callback_url may name: those of
// MMLITE_CALLBACK_HOSTS, and MMLITE_RESULTS_URL's.
func callbackHosts(cmd *cli.Command) (safeurl.Hosts, error) {
	h, err := safeurl.ParseHosts(cmd.String("callback-hosts"))
	if err != nil {
		return nil, fmt.Errorf("MMLITE_CALLBACK_HOSTS: %w", err)
	}
	if u := cmd.String("results-url"); u != "" {
		h = append(h, safeurl.HostOf(u))
	}
	return h, nil
}

// emitTargets says where results, statuses and campaign events go: the
// callback queue when MMLITE_RESULTS_URL is set, and the results queue
// unless MMLITE_RESULTS_QUEUE is set empty.
func emitTargets(cmd *cli.Command) (callbackQueue string, noResults bool, err error) {
	v, set := os.LookupEnv("MMLITE_RESULTS_QUEUE")
	noResults = cmd.String("results-queue") == "" || set && v == "" && !cmd.IsSet("results-queue")
	if cmd.String("results-url") != "" {
		if err := outbound.CheckURL(cmd.String("results-url")); err != nil {
			return "", false, fmt.Errorf("MMLITE_RESULTS_URL: %w", err)
		}
		callbackQueue = outbound.CallbackQueueOf(cmd.String("queue"))
	}
	if noResults && callbackQueue == "" {
		return "", false, errors.New(emit.ErrNowhere)
	}
	return callbackQueue, noResults, nil
}

// callbackSettingsAlone refuses the callbacks' settings without
// MMLITE_RESULTS_URL: taken alone, they would be dropped without a word,
// the operator believing callbacks are on.
func callbackSettingsAlone(cmd *cli.Command) error {
	if cmd.String("results-url") != "" {
		return nil
	}
	for _, f := range []string{"results-secret", "results-batch", "results-batch-wait"} {
		if cmd.IsSet(f) && (f != "results-secret" || strings.TrimSpace(cmd.String(f)) != "") {
			return fmt.Errorf("MMLITE_%s is set but MMLITE_RESULTS_URL is not: it is a setting of the callbacks, which go to that URL", envName(f))
		}
	}
	return nil
}

// startOutbound starts the worker's deliveries of relayed webhooks and
// callbacks, when there are any; stop shuts them down.
func startOutbound(cmd *cli.Command, opt asynq.RedisConnOpt, reg prometheus.Registerer, cfg outbound.Config) (stop func(), err error) {
	if err := outbound.CheckMaxAge(cmd.Duration("relay-max-age")); err != nil {
		return nil, err
	}
	dests, err := loadDestinations(cmd)
	if err != nil {
		return nil, err
	}
	cfg.Destinations = dests
	if err := callbackSettingsAlone(cmd); err != nil {
		return nil, err
	}
	if url := cmd.String("results-url"); url != "" {
		cfg.Callbacks = outbound.NewCallbacks(url, cmd.String("results-secret"))
	}
	if len(cfg.Destinations) == 0 && cfg.Callbacks == nil {
		return func() {}, nil
	}
	cfg.MaxAge, cfg.Concurrency, cfg.Registerer = cmd.Duration("relay-max-age"), cmd.Int("outbound-concurrency"), reg
	cfg.BatchSize, cfg.BatchWait = cmd.Int("results-batch"), cmd.Duration("results-batch-wait")
	rdb := redisconn.Client(opt)
	st := store.New(rdb, keyspace.New(cmd.String("queue")), store.Options{Retention: cmd.Duration("retention")})
	if cfg.CallbackHosts, err = callbackHosts(cmd); err != nil {
		return nil, err
	}
	cfg.CallbackURL = st.Campaigns.CallbackURL
	s, err := outbound.NewServer(rdb, cfg)
	if err == nil {
		err = s.Start()
	}
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	return func() { s.Shutdown(); _ = rdb.Close() }, nil
}

func outboundCommand() *cli.Command {
	queues := func(cmd *cli.Command) ([]outbound.NamedQueue, error) {
		dests, err := loadDestinationsOf(cmd, true) // signs nothing: the secrets need not be here
		if err != nil {
			return nil, err
		}
		return outbound.Queues(dests, cmd.String("destination"), outbound.CallbackQueueOf(cmd.String("queue")))
	}
	flags := append(relayFlags(), &cli.StringFlag{Name: "destination", Usage: "only this destination (its name; \"results\" for the callbacks)"})
	return &cli.Command{
		Name:  "outbound",
		Usage: "relayed webhooks and callbacks: see each destination's backlog, replay archived deliveries",
		Commands: []*cli.Command{
			{
				Name: "status", Usage: "each destination's waiting, archived and oldest waiting delivery", Flags: flags,
				Action: func(ctx context.Context, cmd *cli.Command) error {
					return withClient(ctx, cmd, func(rdb redis.UniversalClient) error {
						qs, err := queues(cmd)
						if err != nil {
							return err
						}
						tw := tabwriter.NewWriter(cmd.Root().Writer, 0, 4, 2, ' ', 0)
						fmt.Fprintln(tw, "DESTINATION\tWAITING\tARCHIVED\tOLDEST")
						for _, q := range qs {
							st, err := outbound.Backlog(ctx, rdb, q.Queue)
							if err != nil {
								return redisErr(cmd, fmt.Errorf("outbound: status: %w", err))
							}
							fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", q.Name, st.Waiting, st.Archived, st.Oldest.Round(time.Second))
						}
						return tw.Flush()
					})
				},
			},
			{
				Name: "replay", Usage: "deliver the archived deliveries again (all destinations, or --destination)", Flags: flags,
				Action: func(ctx context.Context, cmd *cli.Command) error {
					return withClient(ctx, cmd, func(rdb redis.UniversalClient) error {
						qs, err := queues(cmd)
						if err != nil {
							return err
						}
						var errs []error // a destination's unreadable tasks hold back no other
						for _, q := range qs {
							n, err := outbound.Replay(ctx, rdb, q.Queue)
							if redisconn.Unavailable(err) {
								return redisErr(cmd, err)
							}
							fmt.Fprintf(cmd.Root().Writer, "%s: %d archived deliveries queued again\n", q.Name, n)
							if err != nil {
								errs = append(errs, fmt.Errorf("%s: %w", q.Name, err))
							}
						}
						return errors.Join(errs...)
					})
				},
			},
		},
	}
}

// withClient runs fn with a client of the configured Redis.
func withClient(ctx context.Context, cmd *cli.Command, fn func(rdb redis.UniversalClient) error) error {
	if _, err := newLogger(cmd); err != nil { // checks the log settings, and routes go-redis's lines
		return err
	}
	opt, err := redisOpt(cmd, 4)
	if err != nil {
		return err
	}
	if err := redisconn.Reach(ctx, opt); err != nil { // no Sentinel answers: say so now, not in 38 s
		return redisErr(cmd, err)
	}
	rdb := redisconn.Client(opt)
	defer rdb.Close()
	return fn(rdb)
}
