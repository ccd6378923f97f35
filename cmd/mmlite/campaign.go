package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mmlite/mmlite/internal/progress"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/producer"
	"github.com/urfave/cli/v3"
	"golang.org/x/term"
)

func campaignCommand() *cli.Command {
	ctl := func(name, usage string, op func(*producer.Producer) func(context.Context, string) (*campaign.Status, error)) *cli.Command {
		return &cli.Command{Name: name, Usage: usage, ArgsUsage: "ID", Action: func(ctx context.Context, cmd *cli.Command) error {
			return withProducer(ctx, cmd, func(p *producer.Producer, id string) error {
				st, err := op(p)(ctx, id)
				if err != nil {
					return err
				}
				return printJSON(cmd, st)
			})
		}}
	}
	return &cli.Command{
		Name:  "campaign",
		Usage: "list campaigns; status (JSON), pause, resume, cancel and seal; results, follow-up, test send, recipient lookup",
		Commands: []*cli.Command{
			listCommand(),
			{Name: "status", Usage: "print the campaign's state, counts, rate, ETA and why it waits as JSON; --watch shows live progress until it is over",
				ArgsUsage: "ID", Flags: []cli.Flag{&cli.BoolFlag{Name: "watch", Usage: "show live progress until the campaign completes"}},
				Action: campaignStatus},
			ctl("pause", "stop new sends at once across the fleet; waiting jobs are put aside", func(p *producer.Producer) func(context.Context, string) (*campaign.Status, error) { return p.Pause }),
			ctl("resume", "send again where it stopped, at the sender's rate", func(p *producer.Producer) func(context.Context, string) (*campaign.Status, error) { return p.Resume }),
			cancelCommand(),
			ctl("seal", "take no new recipients: the campaign completes once every recipient it has is final", func(p *producer.Producer) func(context.Context, string) (*campaign.Status, error) { return p.Seal }),
			resultsCommand(),
			followUpCommand(),
			testCommand(),
			recipientCommand(),
		},
	}
}

// cancelCommand is mmlite campaign cancel: a cancel whose wait for the
// sends in flight runs out has taken effect, so it exits 0 with the status,
// and a note of the sends still in flight on stderr.
func cancelCommand() *cli.Command {
	return &cli.Command{Name: "cancel", Usage: "stop for good: nothing is sent after this returns, every remaining recipient is reported cancelled",
		ArgsUsage: "ID",
		Flags: []cli.Flag{&cli.DurationFlag{Name: "cancel-wait", Value: producer.DefaultCancelWait, Sources: env("CANCEL_WAIT"),
			Usage: "how long to wait for the campaign's sends in flight; above the workers' HTTP timeout"}},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := checkCancelWait(cmd); err != nil {
				return cli.Exit(err.Error(), 1)
			}
			return withProducer(ctx, cmd, func(p *producer.Producer, id string) error {
				st, err := p.Cancel(ctx, id)
				var inFlight *producer.InFlightError
				if err != nil && (!errors.As(err, &inFlight) || st == nil) {
					return err
				}
				if err := printJSON(cmd, st); err != nil {
					return err
				}
				if inFlight != nil {
					_, err = fmt.Fprintln(cmd.Root().ErrWriter, "note: "+inFlight.Detail())
				}
				return err
			})
		}}
}

func campaignStatus(ctx context.Context, cmd *cli.Command) error {
	return withProducer(ctx, cmd, func(p *producer.Producer, id string) error {
		get := func(ctx context.Context) (*campaign.Status, error) { return p.Store().Campaigns.Live(ctx, id) }
		if !cmd.Bool("watch") {
			st, err := get(ctx)
			if err != nil {
				return err
			}
			return printJSON(cmd, st)
		}
		_, err := progress.Watch(ctx, os.Stderr, term.IsTerminal(int(os.Stderr.Fd())), 500*time.Millisecond, get)
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	})
}

// withProducer runs fn with a producer on the configured Redis and the
// campaign id argument.
func withProducer(ctx context.Context, cmd *cli.Command, fn func(p *producer.Producer, id string) error) error {
	id := cmd.Args().First()
	if id == "" {
		return cli.Exit("usage: mmlite campaign "+cmd.Name+" "+cmd.ArgsUsage, 1)
	}
	err := withRedis(ctx, cmd, func(p *producer.Producer) error { return fn(p, id) })
	if errors.Is(err, campaign.ErrNotFound) {
		return cli.Exit(fmt.Sprintf("campaign %s not found", id), 1)
	}
	return err
}

// withRedis runs fn with a producer on the configured Redis; the errors a
// user can act on become one line, exit status 1.
func withRedis(ctx context.Context, cmd *cli.Command, fn func(p *producer.Producer) error) error {
	opt, err := redisOpt(cmd, 4)
	if err != nil {
		return err
	}
	log, err := newLogger(cmd)
	if err != nil {
		return err
	}
	if err := redisconn.Reach(ctx, opt); err != nil { // no Sentinel answers: say so now, not in 38 s
		return redisErr(cmd, err)
	}
	pc, err := producerConfig(cmd, log)
	if err != nil {
		return err
	}
	pc.Redis = opt
	pc.CancelWait = cmd.Duration("cancel-wait") // mmlite campaign cancel's; 0 (the default) elsewhere
	p, err := producer.New(pc)
	if err != nil {
		return err
	}
	defer p.Close()
	err = fn(p)
	var ve *campaign.ValidationError
	switch {
	case errors.Is(err, campaign.ErrNotFound):
		return err
	case errors.Is(err, campaign.ErrState), errors.Is(err, campaign.ErrConflict), errors.Is(err, producer.ErrNoMatch),
		errors.Is(err, producer.ErrNoWorker), errors.Is(err, producer.ErrBadRecipient), errors.Is(err, store.ErrNoRecipient),
		errors.As(err, &ve), userResultsErr(err):
		return cli.Exit(err.Error(), 1)
	}
	return redisErr(cmd, err)
}

func printJSON(cmd *cli.Command, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(cmd.Root().Writer, string(b))
	return err
}
