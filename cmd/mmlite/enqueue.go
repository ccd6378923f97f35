package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/readlimit"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/producer"
	"github.com/urfave/cli/v3"
)

// Exit codes of mmlite enqueue (the contract).
const (
	exitRejected = 3
	exitFailure  = 1
)

func enqueueCommand() *cli.Command {
	return &cli.Command{
		Name:      "enqueue",
		Usage:     "register a campaign and enqueue its recipients from CSV or JSON Lines",
		UsageText: "mmlite enqueue --campaign campaign.json --recipients recipients.csv|- [--format csv|jsonl] [--output text|json] [--dry-run]",
		Description: "Exit status: 0 when every row was accepted or a duplicate, 3 when some rows were rejected\n" +
			"(the valid ones are enqueued), 1 on any other failure.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "campaign", Usage: "the campaign's JSON file (required)"},
			&cli.StringFlag{Name: "recipients", Usage: "CSV or JSON Lines file, - for stdin (required)"},
			&cli.StringFlag{Name: "format", Usage: "csv or jsonl; by default from the file's extension (.csv, .jsonl, .ndjson), csv for stdin"},
			&cli.StringFlag{Name: "output", Value: "text", Usage: "text, or json for a summary line on stdout"},
			&cli.BoolFlag{Name: "dry-run", Usage: "validate the campaign and every row without enqueuing; the summary says what a real run would give"},
			&cli.BoolFlag{Name: "open", Usage: "keep the campaign open for more recipients (by default the end of the input seals it)"},
			&cli.BoolFlag{Name: "no-progress", Usage: "no progress line, even on a terminal"},
		}, paceFlags()...),
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if err := requireFlags(cmd, "campaign", "recipients"); err != nil {
				return err
			}
			if err := checkOutput(cmd); err != nil {
				return err
			}
			sum, err := enqueue(ctx, cmd)
			if err != nil {
				if sum != nil && (sum.Rows() > 0 || ctx.Err() != nil) {
					printSummary(cmd, sum) // what was written before stays written
				}
				if ctx.Err() != nil {
					err = fmt.Errorf("interrupted: %w", err)
				}
				return cli.Exit(redisErr(cmd, err), exitFailure)
			}
			printSummary(cmd, sum)
			if sum.Rejected > 0 {
				return cli.Exit("", exitRejected)
			}
			return nil
		},
	}
}

func enqueue(ctx context.Context, cmd *cli.Command) (*producer.Summary, error) {
	// Bounded as the api bounds a campaign in a POST /v1/campaigns body.
	b, err := readlimit.ReadFile(cmd.String("campaign"), httpapi.DefaultMaxValue)
	if err != nil {
		return nil, err
	}
	c, err := campaign.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd.String("campaign"), err)
	}
	src, closeSrc, err := producer.OpenRecipients(ctx, cmd.Root().Reader, cmd.String("recipients"), cmd.String("format"))
	if err != nil {
		return nil, err
	}
	defer closeSrc()
	opt, err := redisOpt(cmd, 32)
	if err != nil {
		return nil, err
	}
	own, err := ownSenders(cmd)
	if err != nil {
		return nil, err
	}
	log, err := newLogger(cmd)
	if err != nil {
		return nil, err
	}
	dry := cmd.Bool("dry-run") // needs no Redis
	if !dry {
		if err := redisconn.Reach(ctx, opt); err != nil { // no Sentinel answers: say so now, not in 38 s
			return nil, err
		}
	}
	pc, err := producerConfig(cmd, log)
	if err != nil {
		return nil, err
	}
	pc.Redis, pc.Senders = opt, own
	p, err := producer.New(pc)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	if dry {
		if err := p.Check(c); err != nil { // Register's checks, without Redis
			return nil, err
		}
	} else if _, err := p.Register(ctx, c); err != nil {
		return nil, err
	}
	bar := newProgress(cmd.Bool("no-progress"))
	sum, err := p.Enqueue(ctx, c, src, producer.Options{DryRun: dry, Progress: bar.update})
	bar.finish()
	if ie := (*producer.InputError)(nil); errors.As(err, &ie) {
		err = fmt.Errorf("%s: %w", inputName(cmd.String("recipients")), err) // the line alone does not say which file
	}
	if err != nil && !dry && mayStayOpen(ctx, p, c.ID) {
		return sum, fmt.Errorf("%w\ncampaign %s stays open with the rows accepted: run the same command again once this is fixed "+
			"(rows enqueued already are duplicates: nothing is sent twice), or stop it: mmlite campaign cancel %s", err, c.ID, c.ID)
	}
	if err != nil || dry || cmd.Bool("open") {
		return sum, err
	}
	// The input ended cleanly: it was the whole list.
	if _, err := p.Seal(ctx, c.ID); err != nil {
		return sum, fmt.Errorf("seal %s: %w", c.ID, err)
	}
	return sum, nil
}

func printSummary(cmd *cli.Command, sum *producer.Summary) {
	w := cmd.Root().Writer
	if cmd.String("output") == "json" {
		b, _ := json.Marshal(sum)
		fmt.Fprintln(w, string(b))
		return
	}
	if sum.DryRun {
		fmt.Fprintln(w, "dry run: nothing was enqueued; a real run would give:")
	}
	fmt.Fprintln(w, summaryLine(sum))
	for _, e := range sum.Errors {
		fmt.Fprintf(w, "  line %d: %s\n", e.Line, e.Reason)
	}
	if sum.ErrorsTruncated {
		fmt.Fprintf(w, "  ... and %d more rejected rows\n", sum.Rejected-int64(len(sum.Errors)))
	}
}

func summaryLine(sum *producer.Summary) string {
	return fmt.Sprintf("campaign %s: %s", sum.CampaignID, counts(sum))
}

func counts(sum *producer.Summary) string {
	accepted := fmt.Sprintf("%d accepted", sum.Accepted)
	if sum.Suppressed > 0 {
		// on the suppression list: a suppressed result, never a send
		accepted += fmt.Sprintf(" (%d suppressed: not sent)", sum.Suppressed)
	}
	return fmt.Sprintf("%s, %s, %d rejected", accepted, plural(sum.Duplicates, "duplicate"), sum.Rejected)
}

// plural is "1 row", "2 rows", "0 rows".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// mayStayOpen says whether campaign id may still be open after an enqueue
// that failed: not when it is known to be sealed or over (its rows were
// refused, say). Read with a moment of its own: the enqueue's context may
// be what ended it.
func mayStayOpen(ctx context.Context, p *producer.Producer, id string) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	st, err := p.Store().Campaigns.Status(ctx, id)
	return err != nil || (!st.Sealed && !st.State.Final())
}

// inputName names the recipients input in an error: its path, or stdin.
func inputName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}
