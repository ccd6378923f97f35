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
	// methods of a net.Error. The loaders of the files mmlite reads keep
	// io.EOF out of their errors (an empty senders file says so, naming
	// it), for it would be taken here for Redis's.
	// Nor is a listen error (a server's address taken or malformed), a
	// *net.OpError like Redis's dial errors.
	var pe *fs.PathError
	var oe *net.OpError
	if err == nil || errors.Is(err, redis.ErrClosed) || errors.Is(err, context.Canceled) || errors.As(err, &pe) ||
		errors.As(err, &oe) && oe.Op == "listen" {
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
