package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mmlite/mmlite/internal/logburst"
	"github.com/urfave/cli/v3"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := execute(ctx, app(), os.Args)
	logburst.Flush() // the counts of lines held back in windows not yet over
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

// execute runs the command line args (args[0] is the program) on a.
func execute(ctx context.Context, a *cli.Command, args []string) error {
	var unknown error
	onCommandNotFound(a, func(err error) { unknown = err })
	err := a.Run(ctx, hoistSettings(args))
	if err == nil && unknown != nil {
		return unknown
	}
	return err
}

// onCommandNotFound has an unknown command reported to found, as one line
// that points to the help, exit status 1: urfave/cli says "No help topic
// for ..." and exits 3, which mmlite enqueue uses for rows rejected. Its
// CommandNotFound cannot fail the run, hence found.
func onCommandNotFound(cmd *cli.Command, found func(error)) {
	if len(cmd.Commands) == 0 {
		return
	}
	cmd.CommandNotFound = func(_ context.Context, cmd *cli.Command, name string) { found(unknownCommand(cmd, name)) }
	for _, sub := range cmd.Commands {
		onCommandNotFound(sub, found)
	}
}

func unknownCommand(cmd *cli.Command, name string) error {
	return usageError(cmd, fmt.Sprintf("unknown command %q", name))
}

func app() *cli.Command {
	a := &cli.Command{
		Name:      "mmlite",
		Usage:     "send WhatsApp marketing campaigns through the Marketing Messages Lite API",
		UsageText: "mmlite COMMAND [options]",
		Version:   versionLine(buildInfo()),
		Description: "Every setting is a flag and an MMLITE_* environment variable; the flag wins.\n" +
			"`mmlite COMMAND --help` lists a command's settings.\n" +
			"Run `mmlite demo` to see everything work on an embedded Redis and a fake API.",
		HideHelpCommand: true,
		// main decides the exit status, so that tests can run commands in-process.
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		// Each command lists the settings it uses, and only those.
		Commands: []*cli.Command{
			withFlags(workerCommand(), redisFlags(), logFlags("info", "json"), guardFlags()),
			withFlags(apiCommand(), redisFlags(), logFlags("info", "json"), guardFlags()),
			withFlags(enqueueCommand(), redisFlags(), logFlags("info", "json")),
			withFlags(campaignCommand(), redisFlags(), logFlags("info", "json")), // and its subcommands
			withFlags(suppressCommand(), redisFlags(), logFlags("info", "json")),
			withFlags(senderCommand(), redisFlags(), logFlags("info", "json")),
			withFlags(outboundCommand(), redisFlags(), logFlags("info", "json")),
			withFlags(fakeapiCommand(), logFlags("info", "json")),
			// The demo shows its own output: only warnings go with it.
			withFlags(demoCommand(), logFlags("warn", "text")),
			healthcheckCommand(),
			versionCommand(),
		},
	}
	onUsageError(a)
	checkCommandLine(a)
	return a
}

// checkCommandLine has every command refuse, before it does anything, a
// flag of one value given twice (see repeatedFlag) and the arguments past
// those its ArgsUsage names ("ID TO": 2, "[URL]": 1, "TO...": any, none:
// 0): they were dropped unsaid (mmlite enqueue --recipients *.csv
// enqueued the first file and sealed the campaign).
func checkCommandLine(cmd *cli.Command) {
	for _, sub := range cmd.Commands {
		checkCommandLine(sub)
	}
	if len(cmd.Commands) > 0 || cmd.Action == nil || strings.HasSuffix(cmd.ArgsUsage, "...") {
		return
	}
	before := cmd.Before // a command's own runs after the check
	cmd.Before = func(ctx context.Context, cmd *cli.Command) (context.Context, error) {
		if err := repeatedFlag(cmd); err != nil {
			return ctx, err
		}
		takes := strings.Fields(cmd.ArgsUsage)
		if cmd.Args().Len() <= len(takes) {
			if before != nil {
				return before(ctx, cmd)
			}
			return ctx, nil
		}
		what := "none"
		if len(takes) > 0 {
			what = cmd.ArgsUsage
		}
		msg := fmt.Sprintf("unexpected argument %q: it takes %s", cmd.Args().Get(len(takes)), what)
		return ctx, usageError(cmd, msg)
	}
}

// repeatedFlag refuses a flag of one value given more than once: the last
// would be kept silently (mmlite enqueue --campaign a.json --campaign
// b.json enqueued b). A flag of many values (--status) adds up; a switch
// given twice is on.
func repeatedFlag(cmd *cli.Command) error {
	type kind interface {
		Count() int
		IsBoolFlag() bool
		IsMultiValueFlag() bool
	}
	for _, c := range cmd.Lineage() { // a parent's flags are its subcommands' too
		for _, f := range c.Flags {
			k, ok := f.(kind)
			if !ok || k.IsBoolFlag() || k.IsMultiValueFlag() || k.Count() < 2 {
				continue
			}
			return usageError(cmd, fmt.Sprintf("--%s is given %d times: give it once", f.Names()[0], k.Count()))
		}
	}
	return nil
}

// withFlags adds the flag groups to cmd's own flags.
func withFlags(cmd *cli.Command, groups ...[]cli.Flag) *cli.Command {
	for _, g := range groups {
		cmd.Flags = append(cmd.Flags, g...)
	}
	return cmd
}

// onUsageError makes a usage error (an unknown flag, a bad value) one line
// that points to the help, instead of the whole help followed by the error.
func onUsageError(cmd *cli.Command) {
	cmd.OnUsageError = func(_ context.Context, cmd *cli.Command, err error, _ bool) error {
		if name := cmd.Args().First(); len(cmd.Commands) > 0 && name != "" && cmd.Command(name) == nil {
			return unknownCommand(cmd, name) // its flags were taken for the parent's
		}
		return usageError(cmd, err.Error())
	}
	for _, sub := range cmd.Commands {
		onUsageError(sub)
	}
}

// requireFlags checks that the named flags are set: one line naming every
// missing one, and where the help is.
func requireFlags(cmd *cli.Command, names ...string) error {
	var missing []string
	for _, n := range names {
		if !cmd.IsSet(n) {
			missing = append(missing, "--"+n)
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return usageError(cmd, missing[0]+" is required")
	}
	list := strings.Join(missing[:len(missing)-1], ", ") + " and " + missing[len(missing)-1]
	return usageError(cmd, list+" are required")
}

// usageError is a usage error of cmd, exit status 1: msg prefixed with the
// command's path, then where its help is.
func usageError(cmd *cli.Command, msg string) error {
	return cli.Exit(fmt.Sprintf("%s (%s)", inCommand(cmd, msg), helpHint(cmd)), 1)
}

// inCommand prefixes msg with the command's path below mmlite.
func inCommand(cmd *cli.Command, msg string) string {
	if p := cmd.Path(); len(p) > 1 {
		return strings.Join(p[1:], " ") + ": " + msg
	}
	return msg
}

func helpHint(cmd *cli.Command) string {
	if len(cmd.Commands) > 0 {
		return cmd.FullName() + " --help lists the commands"
	}
	return cmd.FullName() + " --help lists the flags"
}
