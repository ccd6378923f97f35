package main

import (
	"context"
	"errors"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/producer"
	"github.com/urfave/cli/v3"
)

func senderCommand() *cli.Command {
	return &cli.Command{
		Name:  "sender",
		Usage: "the senders workers publish: state, pause and resume (the sender guard, see docs/campaigns.md#protection)",
		Commands: []*cli.Command{
			{Name: "list", Usage: "print the senders and their guard state as JSON", Action: func(ctx context.Context, cmd *cli.Command) error {
				return withGuard(ctx, cmd, func(p *producer.Producer, g *guard.Guard) error {
					out, err := g.SenderViews(ctx, registry.New(p.Redis(), p.Store().Campaigns.Keys()))
					if err != nil {
						return err
					}
					return printJSON(cmd, map[string]any{"senders": out})
				})
			}},
			{Name: "pause", Usage: "pause a sender: every campaign of it, running and future", ArgsUsage: "ID",
				Action: func(ctx context.Context, cmd *cli.Command) error {
					return withSender(ctx, cmd, func(p *producer.Producer, g *guard.Guard, id string) error {
						paused, err := g.PauseSender(ctx, id, guard.ReasonOperator, 0, guard.SourceCLI)
						if err != nil {
							return err
						}
						return printJSON(cmd, map[string]any{"sender": id, "campaigns_paused": len(paused)})
					})
				}},
			{Name: "resume", Usage: "let a sender send again; the campaigns its guard paused resume (never an operator's pause)", ArgsUsage: "ID",
				Action: func(ctx context.Context, cmd *cli.Command) error {
					return withSender(ctx, cmd, func(p *producer.Producer, g *guard.Guard, id string) error {
						resumed, err := g.ResumeSender(ctx, id, p.ResumeFrom)
						if err != nil {
							return err
						}
						return printJSON(cmd, map[string]any{"sender": id, "campaigns_resumed": len(resumed)})
					})
				}},
		},
	}
}

// withSender runs fn for the published sender named by the argument.
func withSender(ctx context.Context, cmd *cli.Command, fn func(p *producer.Producer, g *guard.Guard, id string) error) error {
	id := cmd.Args().First()
	if id == "" {
		return cli.Exit("usage: mmlite sender "+cmd.Name+" ID", 1)
	}
	return withGuard(ctx, cmd, func(p *producer.Producer, g *guard.Guard) error {
		_, err := registry.New(p.Redis(), p.Store().Campaigns.Keys()).Published(ctx, id)
		switch {
		case errors.Is(err, registry.ErrNotPublished):
			return cli.Exit(err.Error(), 1)
		case err != nil:
			return err
		}
		return fn(p, g, id)
	})
}
