package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/readlimit"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/urfave/cli/v3"
)

func env(name string) cli.ValueSourceChain { return cli.EnvVars("MMLITE_" + name) }

// envName is the MMLITE_ variable of a flag, less its prefix: "max-body"
// is MAX_BODY.
func envName(flag string) string { return strings.ToUpper(strings.ReplaceAll(flag, "-", "_")) }

// redisFlags are the settings of every command that uses Redis.
func redisFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "redis-url", Value: "redis://127.0.0.1:6379/0", Sources: env("REDIS_URL"),
			Usage: "Redis: redis://[user:pass@]host:port/db, rediss:// (TLS), redis-sentinel://h1:p1,h2:p2/db?master=NAME, redis-cluster://h1:p1,h2:p2"},
		&cli.StringFlag{Name: "queue", Value: task.SendQueue, Sources: env("QUEUE"),
			Usage: "asynq queue of the send jobs; also the hash tag of every mmlite key"},
		&cli.StringFlag{Name: "results-queue", Value: task.DefaultResultsQueue, Sources: env("RESULTS_QUEUE"),
			Usage: "asynq queue that receives result, status and campaign tasks"},
		&cli.StringFlag{Name: "results-url", Sources: env("RESULTS_URL"),
			Usage: "POST every result, status and campaign event to this URL too (callbacks, delivered by the workers); https://, or http:// on loopback"},
		&cli.StringFlag{Name: "callback-hosts", Sources: env("CALLBACK_HOSTS"),
			Usage: "comma-separated hosts (host or host:port) a campaign's callback_url may name, besides MMLITE_RESULTS_URL's"},
		&cli.DurationFlag{Name: "retention", Value: campaign.DefaultRetention, Sources: env("RETENTION"),
			Usage: "how long a finished campaign's state is kept in Redis (and its status can be read)"},
	}
}

// logFlags are the settings of every command that logs, with its defaults.
func logFlags(level, format string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "log-level", Value: level, Sources: env("LOG_LEVEL"), Usage: "debug, info, warn or error"},
		&cli.StringFlag{Name: "log-format", Value: format, Sources: env("LOG_FORMAT"), Usage: "json or text"},
	}
}

// isSetting says whether name is one of the flags that mmlite took before
// the command (mmlite --redis-url URL enqueue ...) when every command had
// them.
func isSetting(name string) bool {
	switch name {
	case "redis-url", "queue", "results-queue", "results-url", "retention", "log-level", "log-format":
		return true
	}
	return false
}

// hoistSettings moves the settings written before the command to just
// after it, where the command defines them: `mmlite --redis-url URL
// campaign status ID` still works now that only the commands that use
// Redis take --redis-url. args[0] is the program.
func hoistSettings(args []string) []string {
	i := 1
	for i < len(args) {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") || !isSetting(name) {
			break
		}
		if hasValue {
			i++
		} else {
			i += 2
		}
	}
	if i == 1 || i >= len(args) || strings.HasPrefix(args[i], "-") {
		return args
	}
	out := make([]string, 0, len(args))
	out = append(out, args[0], args[i])
	out = append(out, args[1:i]...)
	return append(out, args[i+1:]...)
}

// senderFlags describe the senders, for the worker (keys) and the api (ids).
func senderFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "senders-file", Sources: env("SENDERS_FILE"),
			Usage: "YAML file declaring several senders (see docs/configuration.md); without it, one sender \"default\""},
		&cli.StringFlag{Name: "api-key", Sources: env("API_KEY"),
			Usage: "D360-API-KEY of the sender \"default\" (prefer the environment variable to the flag)"},
		&cli.FloatFlag{Name: "rate", Value: sender.DefaultRate, Sources: env("RATE"),
			Usage: "messages per second for sender \"default\", across the whole fleet"},
		&cli.StringFlag{Name: "api-base-url", Value: sender.Default360BaseURL, Sources: env("API_BASE_URL"),
			Usage: "workers POST to $MMLITE_API_BASE_URL/marketing_messages"},
	}
}

// paceFlags are the sender settings a producer paces by until workers
// publish theirs.
func paceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "senders-file", Sources: env("SENDERS_FILE"),
			Usage: "YAML file declaring the senders (see docs/configuration.md); paces campaigns until workers publish their rates"},
		&cli.FloatFlag{Name: "rate", Value: sender.DefaultRate, Sources: env("RATE"),
			Usage: "messages per second for sender \"default\"; paces campaigns until workers publish their rates"},
	}
}

// ownSenders is the producer's own sender configuration: the senders file,
// or MMLITE_RATE when it is set; nil when neither is.
func ownSenders(cmd *cli.Command) ([]sender.Published, error) {
	if cmd.String("senders-file") == "" && !cmd.IsSet("rate") {
		return nil, nil
	}
	rate, err := senderRate(cmd)
	if err != nil {
		return nil, err
	}
	ss, err := sender.Load(sender.Options{File: cmd.String("senders-file"), Rate: rate})
	if err != nil {
		return nil, unreadable("MMLITE_SENDERS_FILE", err)
	}
	out := make([]sender.Published, len(ss))
	for i, s := range ss {
		out[i] = s.Published()
	}
	return out, nil
}

func loadSenders(cmd *cli.Command, withKeys bool) ([]*sender.Sender, error) {
	rate, err := senderRate(cmd)
	if err != nil {
		return nil, err
	}
	ss, err := sender.Load(sender.Options{File: cmd.String("senders-file"), BaseURL: cmd.String("api-base-url"),
		Key: cmd.String("api-key"), Rate: rate, ResolveKeys: withKeys})
	return ss, unreadable("MMLITE_SENDERS_FILE", err)
}

// unreadable names the setting of a file that could not be opened or
// read, or was too large: the path alone ("open /etc/mmlite/x.yaml: no
// such file or directory") does not say which setting named it. Other
// errors (what the file holds) name the file already, and are returned as
// they are.
func unreadable(setting string, err error) error {
	pe, tl := (*fs.PathError)(nil), (*readlimit.TooLargeError)(nil)
	if errors.As(err, &pe) || errors.As(err, &tl) {
		return fmt.Errorf("%s: %w", setting, err)
	}
	return err
}

// senderRate is MMLITE_RATE, when no senders file is set. A 0 is refused:
// the flag's default is sender.DefaultRate, so a 0 was set on purpose, and
// sender.Load would read it as "not set" (the Go API's zero value) and
// send at the default.
func senderRate(cmd *cli.Command) (float64, error) {
	rate := cmd.Float("rate")
	if rate == 0 && cmd.String("senders-file") == "" {
		return 0, cli.Exit(fmt.Sprintf("MMLITE_RATE (--rate) must be > 0 and <= %d messages per second, got 0 (unset, it is %d)",
			sender.MaxRate, sender.DefaultRate), 1)
	}
	return rate, nil
}

func redisOpt(cmd *cli.Command, poolSize int) (asynq.RedisConnOpt, error) {
	return redisconn.Parse(cmd.String("redis-url"), poolSize)
}

// redisErr names the setting when Redis cannot be reached: what a new user
// meets first is a Redis that is not running, or not where the default URL
// says. The URL's password is never shown.
func redisErr(cmd *cli.Command, err error) error {
	if !redisconn.Unavailable(err) {
		return err
	}
	return fmt.Errorf("cannot reach Redis at %s (MMLITE_REDIS_URL / --redis-url): %w", redisconn.Redact(cmd.String("redis-url")), err)
}

func newLogger(cmd *cli.Command) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cmd.String("log-level"))); err != nil {
		return nil, fmt.Errorf("MMLITE_LOG_LEVEL must be debug, info, warn or error, got %q", cmd.String("log-level"))
	}
	h, err := logHandler(os.Stderr, cmd.String("log-format"), level)
	if err != nil {
		return nil, err
	}
	log := slog.New(h)
	// go-redis logs through one logger per process (every command that
	// connects to Redis calls this): its lines go the same way.
	redisconn.SetLogger(log)
	return log, nil
}

// logHandler writes log lines to w in format (json or text) from level on.
// A duration is written as Go writes it ("30s") in both formats: slog's
// JSON handler writes nanoseconds.
func logHandler(w io.Writer, format string, level slog.Level) (slog.Handler, error) {
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(format) {
	case "json":
		opts.ReplaceAttr = func(_ []string, a slog.Attr) slog.Attr {
			if a.Value.Kind() == slog.KindDuration {
				a.Value = slog.StringValue(a.Value.Duration().String())
			}
			return a
		}
		return slog.NewJSONHandler(w, opts), nil
	case "text":
		return slog.NewTextHandler(w, opts), nil
	}
	return nil, fmt.Errorf("MMLITE_LOG_FORMAT must be json or text, got %q", format)
}

// refuseZero refuses a setting given as 0 (or 0s): the packages read 0 as
// "not set" and take their default (MMLITE_COOLDOWN=0 would hold a
// recipient 24 h), the opposite of what 0 says.
func refuseZero(cmd *cli.Command, names ...string) error {
	for _, n := range names {
		if !cmd.IsSet(n) {
			continue
		}
		zero := false
		switch v := cmd.Value(n).(type) {
		case int:
			zero = v == 0
		case int64:
			zero = v == 0
		case float64:
			zero = v == 0
		case time.Duration:
			zero = v == 0
		}
		if zero {
			return fmt.Errorf("MMLITE_%s (--%s) is 0: it must be above 0 (0 is not \"off\": it would mean the default)",
				envName(n), n)
		}
	}
	return nil
}
