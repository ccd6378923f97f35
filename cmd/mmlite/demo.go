package main

import (
	"context"
	"os"

	"github.com/mmlite/mmlite/internal/demo"
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
		Action: func(ctx context.Context, cmd *cli.Command) error {
			log, err := newLogger(cmd)
			if err != nil {
				return err
			}
			cfg := demo.Config{Recipients: cmd.Int("recipients"), Rate: cmd.Float("rate"), KeepRunning: cmd.Bool("keep-running"),
				Out: cmd.Root().Writer, Progress: os.Stderr, TTY: term.IsTerminal(int(os.Stderr.Fd())), Logger: log}
			if err := cfg.Validate(); err != nil {
				return cli.Exit(err, 1)
			}
			return demo.Run(ctx, cfg)
		},
	}
}
