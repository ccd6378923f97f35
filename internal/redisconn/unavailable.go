package redisconn

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// Unavailable reports whether err says that Redis could not be reached or
// could not serve a command for now (down, restarting, loading its data,
// failing over), as opposed to an answer of Redis to the command. A client
// closed by its owner is not unavailable: it will not come back.
func Unavailable(err error) bool {
	// A file's error is not Redis's, though an *fs.PathError has the
	// methods of a net.Error; nor is one marked so by NotRedis.
	var pe *fs.PathError
	var nr notRedis
	if err == nil || errors.Is(err, redis.ErrClosed) || errors.Is(err, context.Canceled) || errors.As(err, &pe) || errors.As(err, &nr) {
		return false
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsClusterDownError(err) ||
		redis.IsTryAgainError(err) || redis.IsMasterDownError(err)
}

// NotRedis marks err (nil stays nil) as not Redis's: an error of a step
// that uses no Redis (a file, a setting), which Unavailable then never takes
// for an outage, whatever it wraps (an empty file's io.EOF). Its message and
// chain are err's.
func NotRedis(err error) error {
	if err == nil {
		return nil
	}
	return notRedis{err}
}

type notRedis struct{ error }

func (e notRedis) Unwrap() error { return e.error }
