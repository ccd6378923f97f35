// Command mmlite sends WhatsApp marketing campaigns through the Marketing
// Messages Lite API. This package only wires: flags and environment into
// configs, signals into a context, and calls the packages that do the work.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v3"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := app().Run(ctx, os.Args)
	if err == nil {
		return
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := ec.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "mmlite:", msg)
		}
		os.Exit(ec.ExitCode())
	}
	fmt.Fprintln(os.Stderr, "mmlite:", err)
	os.Exit(1)
}

func app() *cli.Command {
	return &cli.Command{
		Name:  "mmlite",
		Usage: "send WhatsApp marketing campaigns through the Marketing Messages Lite API",
		Description: "Every setting is a flag and an MMLITE_* environment variable; the flag wins.\n" +
			"Run `mmlite demo` to see everything work on an embedded Redis and a fake API.",
		Flags:           globalFlags(),
		HideHelpCommand: true,
		// main decides the exit status, so that tests can run commands in-process.
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		Commands: []*cli.Command{
			workerCommand(),
			apiCommand(),
			enqueueCommand(),
			campaignCommand(),
			fakeapiCommand(),
			demoCommand(),
			healthcheckCommand(),
		},
	}
}
