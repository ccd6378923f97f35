package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/internal/results"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/internal/strictjson"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/urfave/cli/v3"
)

func listCommand() *cli.Command {
	return &cli.Command{Name: "list", Usage: "list campaigns, newest first",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "state", Usage: "only campaigns in this state: scheduled, running, paused, cancelled or completed"},
			&cli.IntFlag{Name: "limit", Value: store.DefaultListLimit, Usage: fmt.Sprintf("campaigns per page, 1 to %d", store.MaxListLimit)},
			&cli.StringFlag{Name: "cursor", Usage: "the next_cursor of the previous page"},
			&cli.StringFlag{Name: "output", Value: "text", Usage: "text (a table) or json"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			o := store.ListOptions{State: campaign.State(cmd.String("state")), Limit: cmd.Int("limit"), Cursor: cmd.String("cursor")}
			if err := checkListFlags(cmd, o); err != nil {
				return err
			}
			return withRedis(ctx, cmd, func(p *producer.Producer) error {
				page, err := p.Store().Campaigns.List(ctx, o)
				if errors.Is(err, store.ErrBadCursor) {
					return cli.Exit(fmt.Sprintf("--cursor %q is not one a previous page gave: pass the next_cursor a page printed "+
						`(its "more: --cursor ..." line, or next_cursor with --output json), or no --cursor for the first page`, o.Cursor), 1)
				}
				if err != nil {
					return err
				}
				if cmd.String("output") == "json" {
					return printJSON(cmd, page)
				}
				listTable(cmd.Root().Writer, page)
				return nil
			})
		}}
}

func checkListFlags(cmd *cli.Command, o store.ListOptions) error {
	switch err := store.CheckState(o.State); {
	case err != nil:
		return cli.Exit("--"+err.Error(), 1)
	case o.Limit < 1 || o.Limit > store.MaxListLimit:
		return cli.Exit(fmt.Sprintf("--limit %d must be from 1 to %d", o.Limit, store.MaxListLimit), 1)
	}
	return checkOutput(cmd)
}

// checkOutput checks an --output flag: text or json.
func checkOutput(cmd *cli.Command) error {
	if cmd.String("output") != "json" && cmd.String("output") != "text" {
		return cli.Exit(fmt.Sprintf("--output %q must be text or json", cmd.String("output")), 1)
	}
	return nil
}

// listTable writes a page as a table, and how to get the next one.
func listTable(w io.Writer, page *store.Page) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSENDER\tTEMPLATE\tENQUEUED\tSENT\tFAILED\tCREATED")
	for _, st := range page.Campaigns {
		created := ""
		if st.CreatedAt != nil {
			created = st.CreatedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", st.ID, st.State, st.Sender, st.Template, st.Counts.Enqueued,
			st.Counts.Sent, st.Counts.Failed, created)
	}
	_ = tw.Flush()
	if page.NextCursor != "" {
		fmt.Fprintf(w, "more: --cursor %s\n", page.NextCursor)
	}
}

func resultsCommand() *cli.Command {
	return &cli.Command{Name: "results", Usage: "write a campaign's final results: JSON Lines (mmlite:result payloads) or CSV that mmlite enqueue reads again",
		ArgsUsage: "ID",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "status", Usage: "only these outcomes (comma-separated): " + strings.Join(results.Statuses(), ", ")},
			&cli.StringSliceFlag{Name: "code", Usage: "only these error codes (comma-separated), e.g. 131026"},
			&cli.StringFlag{Name: "format", Value: "jsonl", Usage: "jsonl or csv"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			f, err := results.ParseFilter(cmd.StringSlice("status"), cmd.StringSlice("code"))
			if err != nil {
				return cli.Exit("--status/--code: "+err.Error(), 1)
			}
			format := cmd.String("format")
			if format != "jsonl" && format != "csv" {
				return cli.Exit(fmt.Sprintf("--format %q must be jsonl or csv", format), 1)
			}
			return withProducer(ctx, cmd, func(p *producer.Producer, id string) error {
				c, err := p.Store().Campaigns.Get(ctx, id)
				if err != nil {
					return err
				}
				out := cmd.Root().Writer
				if format == "jsonl" {
					return results.WriteJSONL(ctx, out, p.Store(), c, f)
				}
				head, err := results.CSVHeader(ctx, p.Store(), id, f)
				if err != nil {
					return err
				}
				return results.WriteCSV(ctx, out, p.Store(), id, f, head)
			})
		}}
}

// userResultsErr: an export the recipients' columns do not allow.
func userResultsErr(err error) bool {
	var nc *results.ErrNoColumn
	return errors.As(err, &nc) || errors.Is(err, results.ErrHeader)
}

func followUpCommand() *cli.Command {
	return &cli.Command{Name: "follow-up", Usage: "a new campaign to the recipients of a finished one whose outcome matches, with their own parameters and metadata",
		ArgsUsage: "SRC",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "as", Usage: "the new campaign's id", Required: true},
			&cli.StringSliceFlag{Name: "status", Usage: "outcomes to follow up (comma-separated): failed, expired, cancelled, undelivered"},
			&cli.StringSliceFlag{Name: "code", Usage: "only recipients whose error has one of these codes"},
			&cli.BoolFlag{Name: "include-unknown", Usage: "take the recipients whose outcome is unknown too (they may have received the first message)"},
			&cli.StringFlag{Name: "template", Usage: "another template, as NAME:LANG (e.g. spring_reminder:pt_BR)"},
			&cli.StringFlag{Name: "send-at", Usage: "when the follow-up starts (RFC 3339)"},
			&cli.StringFlag{Name: "expires-at", Usage: "when the follow-up expires (RFC 3339)"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			f, err := followUpFlags(cmd)
			if err != nil {
				return err
			}
			return withProducer(ctx, cmd, func(p *producer.Producer, src string) error {
				sum, err := p.FollowUp(ctx, src, f)
				if err != nil {
					return err
				}
				return printJSON(cmd, sum)
			})
		}}
}

func followUpFlags(cmd *cli.Command) (producer.FollowUp, error) {
	f := producer.FollowUp{ID: cmd.String("as"), Statuses: results.SplitList(cmd.StringSlice("status")), IncludeUnknown: cmd.Bool("include-unknown")}
	codes, err := results.ParseCodes(cmd.StringSlice("code"))
	if err != nil {
		return f, cli.Exit("--code "+err.Error(), 1)
	}
	f.Codes = codes
	if t := cmd.String("template"); t != "" {
		name, lang, ok := strings.Cut(t, ":")
		if !ok || name == "" || lang == "" {
			return f, cli.Exit(fmt.Sprintf("--template %q must be NAME:LANG, e.g. spring_reminder:pt_BR", t), 1)
		}
		f.Template = &mmapi.Template{Name: name, Language: mmapi.Language{Code: lang}}
	}
	if f.SendAt, err = timeFlag(cmd, "send-at"); err != nil {
		return f, err
	}
	f.ExpiresAt, err = timeFlag(cmd, "expires-at")
	return f, err
}

// timeFlag reads an RFC 3339 flag, nil when not given. It is a string flag
// read here rather than a cli.TimestampFlag: time.Parse's error ("cannot
// parse \"\" as \"Z07:00\"") does not say that the zone is missing.
func timeFlag(cmd *cli.Command, name string) (*time.Time, error) {
	if !cmd.IsSet(name) {
		return nil, nil
	}
	v := cmd.String(name)
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, cli.Exit(fmt.Sprintf("--%s: %s, got %q", name, strictjson.WantTime, v), 1)
	}
	return &t, nil
}

func testCommand() *cli.Command {
	return &cli.Command{Name: "test", Usage: "send one message of the campaign's template to one number, through a worker, outside the campaign's counts; print the API's answer",
		ArgsUsage: "ID",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "the number", Required: true},
			&cli.StringFlag{Name: "components", Usage: `the recipient's own components, as JSON: [{"type": "body", "parameters": [...]}]`},
			&cli.DurationFlag{Name: "wait", Value: producer.DefaultTestWait, Usage: "how long to wait for a worker's answer"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if d := cmd.Duration("wait"); d <= 0 { // the test send would be withdrawn at once
				return cli.Exit(fmt.Sprintf("--wait %s: it must be above 0", d), 1)
			}
			r := producer.Recipient{To: cmd.String("to")}
			if c := cmd.String("components"); c != "" {
				cs, err := producer.DecodeComponents([]byte(c))
				if err != nil {
					return cli.Exit("--components: "+err.Error(), 1)
				}
				r.Components = cs
			}
			return withProducer(ctx, cmd, func(p *producer.Producer, id string) error {
				res, err := p.TestSend(ctx, id, r, cmd.Duration("wait"))
				if err != nil {
					return err
				}
				if err := printJSON(cmd, res); err != nil {
					return err
				}
				if res.Status != task.StatusSent {
					return cli.Exit("", 1)
				}
				return nil
			})
		}}
}

func recipientCommand() *cli.Command {
	return &cli.Command{Name: "recipient", Usage: "where one recipient of a campaign is (queued, scheduled, in flight, final) and its result",
		ArgsUsage: "ID TO",
		Action: func(ctx context.Context, cmd *cli.Command) error {
			to, err := phone.Normalize(cmd.Args().Get(1))
			if err != nil {
				return cli.Exit("usage: mmlite campaign recipient ID TO: "+err.Error(), 1)
			}
			return withProducer(ctx, cmd, func(p *producer.Producer, id string) error {
				w, err := p.Store().Recipient(ctx, id, to)
				if err != nil {
					return err
				}
				return printJSON(cmd, w)
			})
		}}
}
