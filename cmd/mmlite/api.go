package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mmlite/mmlite/internal/clientip"
	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/producer"
	"github.com/urfave/cli/v3"
)

func apiCommand() *cli.Command {
	return &cli.Command{
		Name:  "api",
		Usage: "HTTP: campaign intake and control under /v1, /metrics, /healthz, /readyz",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "http-addr", Value: ":8080", Sources: env("HTTP_ADDR"), Usage: "listen address"},
			&cli.StringFlag{Name: "api-token", Sources: env("API_TOKEN"), Usage: "bearer token required on every /v1 request"},
			&cli.BoolFlag{Name: "ui", Value: true, Sources: env("UI"), Usage: "serve the campaign console at /ui/ (--ui=false or MMLITE_UI=false turns it off)"},
			&cli.StringFlag{Name: "trusted-proxies", Sources: env("TRUSTED_PROXIES"),
				Usage: "comma-separated IP addresses and CIDR prefixes of the proxies in front of the api (an Ingress, a load balancer): behind them, the limit on wrong tokens (console login and /v1) takes the client from X-Forwarded-For"},
			&cli.BoolFlag{Name: "insecure-no-auth", Sources: env("INSECURE_NO_AUTH"), Usage: "serve /v1 without a token and, with no webhook secret, take webhooks unauthenticated (never in production)"},
			&cli.Int64Flag{Name: "max-body", Value: httpapi.DefaultMaxBody, Sources: env("MAX_BODY"), Usage: "largest POST /v1/campaigns body, in bytes"},
			&cli.Int64Flag{Name: "max-upload", Value: httpapi.DefaultMaxUpload, Sources: env("MAX_UPLOAD"), Usage: "largest recipients upload, in bytes"},
			&cli.StringFlag{Name: "webhook-secret", Sources: env("WEBHOOK_SECRET"), Usage: "shared secret required in X-Webhook-Secret on POST /webhooks/whatsapp (360dialog)"},
			&cli.StringFlag{Name: "meta-app-secret", Sources: env("META_APP_SECRET"), Usage: "Meta's app secret: X-Hub-Signature-256 is verified (with the webhook secret too, either credential is enough)"},
			&cli.StringFlag{Name: "webhook-verify-token", Sources: env("WEBHOOK_VERIFY_TOKEN"), Usage: "hub.verify_token of Meta's GET handshake; default the webhook secret"},
			&cli.Int64Flag{Name: "max-webhook-body", Value: httpapi.DefaultMaxWebhookBody, Sources: env("MAX_WEBHOOK_BODY"), Usage: "largest webhook body, in bytes"},
			&cli.IntFlag{Name: "max-intake", Value: httpapi.DefaultMaxIntake, Sources: env("MAX_INTAKE"),
				Usage: "intake requests (POST /v1/campaigns, POST /v1/campaigns/{id}/recipients) that read their body at once; the others wait (bounds the api's memory)"},
			&cli.DurationFlag{Name: "cancel-wait", Value: producer.DefaultCancelWait, Sources: env("CANCEL_WAIT"), Usage: "how long a cancel waits for in-flight sends; above the workers' HTTP timeout"},
		}, append(paceFlags(), relayFlags()...)...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkLimits(cmd); err != nil {
				return err
			}
			log, err := newLogger(cmd)
			if err != nil {
				return err
			}
			opt, err := redisOpt(cmd, 32)
			if err != nil {
				return err
			}
			rdb := redisconn.Client(opt)
			defer rdb.Close()
			reg := metrics.NewRegistry()
			queues := []string{cmd.String("queue")}
			if q := cmd.String("results-queue"); q != "" { // "": off (callbacks instead)
				queues = append(queues, q)
			}
			reg.MustRegister(metrics.NewQueueCollector(rdb, queues...))
			own, err := ownSenders(cmd)
			if err != nil {
				return err
			}
			gc, err := guardConfig(cmd, log)
			if err != nil {
				return err
			}
			pc, err := producerConfig(cmd, log)
			if err != nil {
				return err
			}
			dests, err := loadDestinationsOf(cmd, true) // stores the relay tasks; the workers sign them
			if err != nil {
				return err
			}
			proxies, err := clientip.Parse(cmd.String("trusted-proxies"))
			if err != nil {
				return fmt.Errorf("MMLITE_TRUSTED_PROXIES (--trusted-proxies): %w", err)
			}
			if !proxies.Empty() {
				log.Info("the limit on wrong tokens (console login and /v1) takes the client from X-Forwarded-For behind these proxies", "trusted_proxies", proxies.String())
			}
			for _, d := range dests {
				log.Info("relaying webhooks", "destination", d.Name, "fields", d.Fields)
			}
			pc.Client, pc.Registerer, pc.CancelWait, pc.Senders = rdb, reg, cmd.Duration("cancel-wait"), own
			p, err := producer.New(pc)
			if err != nil {
				return err
			}
			srv, err := httpapi.New(httpapi.Config{Producer: p, Token: cmd.String("api-token"), AllowNoAuth: cmd.Bool("insecure-no-auth"),
				MaxBody: cmd.Int64("max-body"), MaxUpload: cmd.Int64("max-upload"), Registerer: reg, Logger: log,
				ResultsQueue: cmd.String("results-queue"), WebhookSecret: cmd.String("webhook-secret"),
				AppSecret: cmd.String("meta-app-secret"), VerifyToken: cmd.String("webhook-verify-token"),
				MaxWebhookBody: cmd.Int64("max-webhook-body"), MaxIntake: cmd.Int("max-intake"), DisableUI: !cmd.Bool("ui"),
				Guard: gc, Destinations: dests, TrustedProxies: proxies,
				Ready: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }})
			if err != nil {
				return err
			}
			return srv.Serve(ctx, cmd.String("http-addr"), 20*time.Second)
		},
	}
}

// checkLimits refuses a size or count limit of the api that is not
// positive, naming its setting (0 would otherwise mean the default).
func checkLimits(cmd *cli.Command) error {
	for _, l := range []struct {
		name string
		v    int64
	}{
		{"max-body", cmd.Int64("max-body")}, {"max-upload", cmd.Int64("max-upload")},
		{"max-webhook-body", cmd.Int64("max-webhook-body")}, {"max-intake", int64(cmd.Int("max-intake"))},
	} {
		if l.v <= 0 {
			return fmt.Errorf("MMLITE_%s (--%s) is %d: it must be at least 1", envName(l.name), l.name, l.v)
		}
	}
	return checkCancelWait(cmd)
}

// checkCancelWait refuses a cancel wait of 0 or less: the producer would
// take it for "not set" and wait its default.
func checkCancelWait(cmd *cli.Command) error {
	if d := cmd.Duration("cancel-wait"); d <= 0 {
		return fmt.Errorf("MMLITE_CANCEL_WAIT (--cancel-wait) is %s: it must be above 0 (and above the workers' HTTP timeout)", d)
	}
	return nil
}
