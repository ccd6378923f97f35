package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v3"
)

// These commands are part of the contract and arrive with the producer issue.
func notYet(name, usage string) *cli.Command {
	return &cli.Command{Name: name, Usage: usage + " (not implemented yet)", Action: func(context.Context, *cli.Command) error {
		return cli.Exit(errors.New(name+": not implemented yet"), 1)
	}}
}

func apiCommand() *cli.Command {
	return notYet("api", "HTTP campaign intake and control, webhooks, /metrics")
}

func enqueueCommand() *cli.Command {
	return notYet("enqueue", "enqueue a campaign's recipients from CSV or JSON Lines")
}

func campaignCommand() *cli.Command {
	return notYet("campaign", "campaign status, pause, resume and cancel")
}

func demoCommand() *cli.Command {
	return notYet("demo", "everything in one process on an embedded Redis and the fake API")
}
