package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/keyspace"
	"github.com/mmlite/mmlite/pkg/redisconn"
	"github.com/urfave/cli/v3"
)

func campaignCommand() *cli.Command {
	return &cli.Command{
		Name:  "campaign",
		Usage: "campaign status (JSON), pause, resume and cancel",
		Commands: []*cli.Command{
			{Name: "status", Usage: "print the campaign's state and counts as JSON", ArgsUsage: "ID", Action: campaignStatus},
		},
	}
}

func campaignStatus(ctx context.Context, cmd *cli.Command) error {
	id := cmd.Args().First()
	if id == "" {
		return cli.Exit("usage: mmlite campaign status ID", 1)
	}
	opt, err := redisOpt(cmd, 2)
	if err != nil {
		return err
	}
	rdb := redisconn.Client(opt)
	defer rdb.Close()
	st, err := campaign.NewStore(rdb, keyspace.New(cmd.String("queue"))).Status(ctx, id)
	if errors.Is(err, campaign.ErrNotFound) {
		return cli.Exit(fmt.Sprintf("campaign %s not found", id), 1)
	}
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	fmt.Fprintln(cmd.Root().Writer, string(b))
	return nil
}
