package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/producer"
	"github.com/urfave/cli/v3"
)

// guardFlags tune the protections (docs/configuration.md#protection), for
// the worker and the api.
func guardFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "suppress-codes", Value: fmt.Sprint(guard.CodeStopped), Sources: env("SUPPRESS_CODES"),
			Usage: "comma-separated error codes that put a recipient on its WABA's suppression list (answer or failed status)"},
		&cli.DurationFlag{Name: "cooldown", Value: guard.DefaultCooldown, Sources: env("COOLDOWN"),
			Usage: "how long a 131049 (per-user marketing cap) holds the recipient, in every campaign of its WABA (Meta asks for at least 24h; shorten only for tests)"},
		&cli.DurationFlag{Name: "limit-window", Value: guard.DefaultLimitWindow, Sources: env("LIMIT_WINDOW"),
			Usage: "the messaging limit's rolling window (Meta's is 24h; shorten only for tests)"},
	}
}

// guardConfig reads guardFlags, and logs what they take but an operator
// should hear of (see guard.Config.Warnings).
func guardConfig(cmd *cli.Command, log *slog.Logger) (guard.Config, error) {
	codes, err := guard.ParseCodes(cmd.String("suppress-codes"))
	if err != nil {
		return guard.Config{}, err
	}
	if err := refuseZero(cmd, "cooldown", "limit-window"); err != nil {
		return guard.Config{}, err
	}
	c := guard.Config{SuppressCodes: codes, Cooldown: cmd.Duration("cooldown"), LimitWindow: cmd.Duration("limit-window")}
	if err := c.Validate(); err != nil {
		return c, err
	}
	for _, w := range c.Warnings() {
		log.Warn(w)
	}
	return c, nil
}

// withGuard runs fn with a guard on the configured Redis.
func withGuard(ctx context.Context, cmd *cli.Command, fn func(p *producer.Producer, g *guard.Guard) error) error {
	return withRedis(ctx, cmd, func(p *producer.Producer) error {
		err := fn(p, guard.New(p.Redis(), p.Store(), guard.Config{}))
		if errors.Is(err, guard.ErrUnknownScope) || errors.Is(err, guard.ErrBadCursor) || errors.Is(err, guard.ErrBadNumber) || errors.Is(err, guard.ErrScopeAndSender) || errors.Is(err, errUsage) {
			return cli.Exit(err.Error(), 1)
		}
		return err
	})
}

var errUsage = errors.New("usage")

// scopeArg reads --scope or --sender (its scope, see guard.ScopeOf). For
// add and import (mustPublish), a scope no published sender has is
// refused, as POST /v1/suppressions refuses it, for no sender would read
// the entries (a mistyped WABA id); list and remove take any scope that
// has a list.
func scopeArg(ctx context.Context, cmd *cli.Command, p *producer.Producer, mustPublish bool) (string, error) {
	if cmd.String("sender") == "" && cmd.String("scope") == "" {
		return "", fmt.Errorf("%w: name the suppression list with --scope WABA_ID or --sender ID", errUsage)
	}
	scope, known, err := guard.ScopeOf(ctx, registry.New(p.Redis(), p.Store().Campaigns.Keys()), cmd.String("sender"), cmd.String("scope"))
	if err == nil && mustPublish && !known {
		return "", cli.Exit(registry.ScopeNotPublished(scope).Error()+": see mmlite sender list", 1)
	}
	return scope, err
}

func scopeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "scope", Usage: "the suppression list: a WABA id (or a sender id, for a sender without waba_id)"},
		&cli.StringFlag{Name: "sender", Usage: "the suppression list of this sender's WABA"},
	}
}

func suppressCommand() *cli.Command {
	return &cli.Command{
		Name:  "suppress",
		Usage: "the suppression lists: recipients no campaign of a WABA sends to (see docs/campaigns.md#protection)",
		Commands: []*cli.Command{
			{Name: "add", Usage: "suppress recipients", ArgsUsage: "TO...", Flags: append(scopeFlags(),
				&cli.StringFlag{Name: "reason", Value: "added by the operator"}),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					return withGuard(ctx, cmd, func(p *producer.Producer, g *guard.Guard) error {
						scope, err := scopeArg(ctx, cmd, p, true)
						if err != nil {
							return err
						}
						if cmd.Args().Len() == 0 {
							return fmt.Errorf("%w: name the numbers to suppress: mmlite suppress add --scope WABA_ID TO...", errUsage)
						}
						sum, err := g.AddNumbers(ctx, scope, cmd.Args().Slice(), cmd.String("reason"), guard.SourceCLI)
						return printImport(cmd, scope, sum, err)
					})
				}},
			{Name: "import", Usage: "suppress the recipients of a CSV file (to,reason) or a JSON list; bad lines are reported, good ones kept",
				ArgsUsage: "FILE", Flags: scopeFlags(), Action: func(ctx context.Context, cmd *cli.Command) error {
					return withGuard(ctx, cmd, func(p *producer.Producer, g *guard.Guard) error {
						scope, err := scopeArg(ctx, cmd, p, true)
						if err != nil {
							return err
						}
						if cmd.Args().Len() != 1 { // a second file would be dropped unsaid
							return fmt.Errorf("%w: name one file: mmlite suppress import --scope WABA_ID FILE", errUsage)
						}
						f, err := os.Open(cmd.Args().First())
						if err != nil {
							return cli.Exit(err.Error(), 1)
						}
						defer f.Close()
						sum, err := g.Import(ctx, scope, f, guard.SourceCLI)
						if bi := (*guard.BadImportError)(nil); errors.As(err, &bi) {
							err = &guard.BadImportError{Reason: cmd.Args().First() + ": " + bi.Reason} // which file
						}
						return printImport(cmd, scope, sum, err)
					})
				}},
			{Name: "remove", Usage: "take a recipient off a suppression list", ArgsUsage: "TO", Flags: scopeFlags(),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					return withGuard(ctx, cmd, func(p *producer.Producer, g *guard.Guard) error {
						scope, err := scopeArg(ctx, cmd, p, false)
						if err != nil {
							return err
						}
						if cmd.Args().Len() != 1 {
							return fmt.Errorf("%w: name one number: mmlite suppress remove --scope WABA_ID TO", errUsage)
						}
						to, ok, err := g.Unsuppress(ctx, scope, cmd.Args().First())
						if err != nil {
							return err
						}
						if !ok {
							return cli.Exit("the recipient is not on the suppression list of "+scope, 1)
						}
						return printJSON(cmd, map[string]any{"scope": scope, "to": to, "removed": true})
					})
				}},
			{Name: "list", Usage: "print a suppression list as JSON, a page at a time (--cursor); without --scope, the scopes",
				Flags: append(scopeFlags(), &cli.StringFlag{Name: "cursor", Usage: "the next_cursor of the previous page"},
					&cli.IntFlag{Name: "limit", Value: guard.DefaultPageSize, Usage: "entries a page"}),
				Action: func(ctx context.Context, cmd *cli.Command) error {
					return withGuard(ctx, cmd, func(p *producer.Producer, g *guard.Guard) error {
						if cmd.String("scope") == "" && cmd.String("sender") == "" {
							scopes, err := g.Scopes(ctx)
							if err != nil {
								return err
							}
							return printJSON(cmd, map[string]any{"scopes": scopes})
						}
						scope, err := scopeArg(ctx, cmd, p, false)
						if err != nil {
							return err
						}
						page, err := g.List(ctx, scope, cmd.String("cursor"), cmd.Int("limit"))
						if errors.Is(err, guard.ErrBadCursor) {
							return cli.Exit(fmt.Sprintf("--cursor %q is not one a previous page gave: pass the next_cursor of the page before, "+
								"or no --cursor for the first page", cmd.String("cursor")), 1)
						}
						if err != nil {
							return err
						}
						return printJSON(cmd, page)
					})
				}},
		},
	}
}

// printImport prints what an import added and refused. It exits 3 when
// some entries were refused (the others were added), as enqueue does, and
// 1 when the import stopped (what it added before is printed first).
func printImport(cmd *cli.Command, scope string, sum guard.ImportSummary, err error) error {
	var bi *guard.BadImportError
	if err != nil && !errors.As(err, &bi) && sum.Added == 0 {
		return err
	}
	if perr := printJSON(cmd, struct {
		Scope string `json:"scope"`
		guard.ImportSummary
	}{scope, sum}); perr != nil {
		return perr
	}
	switch {
	case err != nil:
		return cli.Exit(err.Error(), 1)
	case sum.Rejected > 0:
		return cli.Exit(fmt.Sprintf("%d of the entries refused (listed above); the others were added", sum.Rejected), 3)
	}
	return nil
}
