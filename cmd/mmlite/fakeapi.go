package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/httpserve"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/urfave/cli/v3"
)

func fakeapiCommand() *cli.Command {
	fenv := func(name string) cli.ValueSourceChain { return env("FAKEAPI_" + name) }
	return &cli.Command{
		Name:  "fakeapi",
		Usage: "run a local fake of the 360dialog /marketing_messages endpoint (control it at /_fake/config)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: ":8081", Sources: fenv("ADDR"), Usage: "listen address"},
			&cli.StringFlag{Name: "keys", Sources: fenv("KEYS"), Usage: "comma list of accepted API keys; empty accepts any"},
			&cli.StringFlag{Name: "templates", Sources: fenv("TEMPLATES"), Usage: "comma list of known template names; others get 132001"},
			&cli.DurationFlag{Name: "latency", Sources: fenv("LATENCY"), Usage: "mean added latency per request"},
			&cli.DurationFlag{Name: "latency-jitter", Sources: fenv("LATENCY_JITTER"), Usage: "uniform +/- jitter around --latency"},
			&cli.StringFlag{Name: "errors", Sources: fenv("ERRORS"),
				Usage: "random failures: CODE:SHARE[,...], CODE a Meta code or http500|http502|http503|http429, or -:SHARE:reset|hang"},
			&cli.FloatFlag{Name: "rate-limit", Sources: fenv("RATE_LIMIT"), Usage: "per-key requests/s before the 360dialog rate-limit answer; 0 = off"},
			&cli.IntFlag{Name: "rate-burst", Sources: fenv("RATE_BURST"), Usage: "burst of --rate-limit"},
			&cli.StringFlag{Name: "fail", Sources: fenv("FAIL"), Usage: "recipients that always fail: TO=CODE[,...]"},
			&cli.StringFlag{Name: "webhook-url", Sources: fenv("WEBHOOK_URL"), Usage: "POST status webhooks (sent, delivered, read) here"},
			&cli.StringFlag{Name: "webhook-secret", Sources: fenv("WEBHOOK_SECRET"), Usage: "sent as X-Webhook-Secret"},
			&cli.StringFlag{Name: "app-secret", Sources: fenv("APP_SECRET"), Usage: "signs webhooks with X-Hub-Signature-256"},
			&cli.DurationFlag{Name: "webhook-delay", Value: 200 * time.Millisecond, Sources: fenv("WEBHOOK_DELAY"), Usage: "delay between accept, sent, delivered and read"},
			&cli.FloatFlag{Name: "read-share", Value: 0.6, Sources: fenv("READ_SHARE"), Usage: "share of delivered messages that are read"},
			&cli.StringFlag{Name: "pricing-category", Value: "marketing_lite", Sources: fenv("PRICING_CATEGORY"), Usage: "marketing_lite, or marketing to simulate Cloud API fallback"},
			&cli.IntFlag{Name: "seed", Sources: fenv("SEED"), Usage: "randomness seed; 0 = time based"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			log, err := newLogger(cmd)
			if err != nil {
				return err
			}
			rules, err := fakeapi.ParseErrorRules(cmd.String("errors"))
			if err != nil {
				return fmt.Errorf("--errors: %w", err)
			}
			fail, err := fakeapi.ParseFailRecipients(cmd.String("fail"))
			if err != nil {
				return fmt.Errorf("--fail: %w", err)
			}
			read := cmd.Float("read-share")
			fake, err := fakeapi.New(fakeapi.Config{Keys: list(cmd.String("keys")), Templates: list(cmd.String("templates")),
				Latency: fakeapi.Duration(cmd.Duration("latency")), LatencyJitter: fakeapi.Duration(cmd.Duration("latency-jitter")),
				Errors: rules, RateLimit: cmd.Float("rate-limit"), RateBurst: cmd.Int("rate-burst"), FailRecipients: fail,
				WebhookURL: cmd.String("webhook-url"), WebhookSecret: cmd.String("webhook-secret"), AppSecret: cmd.String("app-secret"),
				WebhookDelay: fakeapi.Duration(cmd.Duration("webhook-delay")), ReadShare: &read,
				PricingCategory: cmd.String("pricing-category"), Seed: int64(cmd.Int("seed"))})
			if err != nil {
				return err
			}
			fake.Start(ctx)
			defer fake.Close()
			srv, err := httpserve.Listen(cmd.String("addr"), fake, httpserve.Timeouts{})
			if err != nil {
				return err
			}
			log.Info("fake API listening", "url", "http://"+srv.Addr()+"/marketing_messages", "control", "http://"+srv.Addr()+"/_fake/config")
			return srv.Serve(ctx, 5*time.Second)
		},
	}
}

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
