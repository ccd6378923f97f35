package redisconn

import (
	"context"
	"fmt"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Reach checks, for a Sentinel URL, that one of its Sentinels answers,
// asking each once: a command that cannot go on without Redis fails in
// seconds, naming the Sentinels. The client of such a URL retries each
// command, redials on each retry and asks every Sentinel, with retries of
// its own, on each dial: when none answers, a command took about 38 s to
// fail. Processes that run for long (worker, api) do not call it: those
// retries carry them over a Sentinel briefly down. Other URLs are left to
// their client, which fails as soon (about 2 s). A Sentinel that answers
// with an error (a wrong password) counts as reached: the client says
// what is wrong.
func Reach(ctx context.Context, opt asynq.RedisConnOpt) error {
	fo, ok := opt.(asynq.RedisFailoverClientOpt)
	if !ok || len(fo.SentinelAddrs) == 0 {
		return nil
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(fo.SentinelAddrs))
	done := make(chan int, len(fo.SentinelAddrs))
	for i, addr := range fo.SentinelAddrs {
		go func() {
			c := redis.NewSentinelClient(&redis.Options{Addr: addr, Username: fo.SentinelUsername,
				Password: fo.SentinelPassword, TLSConfig: fo.TLSConfig, DialTimeout: fo.DialTimeout,
				ReadTimeout: fo.ReadTimeout, WriteTimeout: fo.WriteTimeout,
				MaxRetries: -1, DialerRetries: 1, PoolSize: 1})
			errs[i] = c.Ping(ctx).Err()
			_ = c.Close()
			done <- i
		}()
	}
	reached := false
	for range fo.SentinelAddrs {
		if err := errs[<-done]; parent.Err() == nil && (err == nil || !Unavailable(err)) {
			reached = true
			cancel() // the others need not answer
		}
	}
	switch {
	case reached:
		return nil
	case parent.Err() != nil:
		return context.Cause(parent)
	}
	return &SentinelsError{Addrs: fo.SentinelAddrs, Master: fo.MasterName, Errs: errs}
}

// SentinelsError says that no Sentinel of a URL answered, naming them and
// the master (never a password): "no Sentinel answers at h1:26379,
// h2:26379 (master "mymaster"): dial tcp ...; dial tcp ...". Its errors
// are each Sentinel's, in the URL's order.
type SentinelsError struct {
	Addrs  []string
	Master string
	Errs   []error
}

func (e *SentinelsError) Error() string {
	why := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		why[i] = strings.ReplaceAll(err.Error(), "\n", " ")
	}
	return fmt.Sprintf("no Sentinel answers at %s (master %q): %s", strings.Join(e.Addrs, ", "), e.Master, strings.Join(why, "; "))
}

// Unwrap returns each Sentinel's error: a dial's says that Redis is
// unavailable (see Unavailable).
func (e *SentinelsError) Unwrap() []error { return e.Errs }
