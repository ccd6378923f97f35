package httpserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Timeouts of a server. Zero fields get the defaults (for small requests: probes, metrics, webhooks).
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// The default timeouts suit small requests: probes, metrics, webhooks.
const (
	defaultReadHeader = 5 * time.Second
	defaultRead       = 30 * time.Second
	defaultWrite      = 60 * time.Second
	defaultIdle       = 2 * time.Minute
)

// LongRead is how long a request that proved who sent it (a token, a
// session) may take to arrive: an upload of a large list (see
// AllowLongRead).
const LongRead = 15 * time.Minute

// AllowLongRead gives the request w answers LongRead from now to arrive,
// past the server's read timeout, which is kept short for the requests
// that have not proved who sent them: one that stalls is cut then, rather
// than holding its connection for as long as an upload may take.
func AllowLongRead(w http.ResponseWriter) {
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(LongRead))
}

// ErrShuttingDown is the cause with which the contexts of the requests
// still running half-way through a shutdown end (see Serve).
var ErrShuttingDown = errors.New("the server is shutting down")

// Server is an HTTP server bound to a port.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	stop context.CancelCauseFunc // ends the requests' contexts
}

// Listen binds addr (":0" picks a port).
func Listen(addr string, h http.Handler, t Timeouts) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("httpserve: listen %s: %w", addr, err)
	}
	or := func(v, d time.Duration) time.Duration {
		if v == 0 {
			return d
		}
		return v
	}
	srv := &http.Server{Handler: cutReads(h), MaxHeaderBytes: 64 << 10,
		ReadHeaderTimeout: or(t.ReadHeader, defaultReadHeader), ReadTimeout: or(t.Read, defaultRead),
		WriteTimeout: or(t.Write, defaultWrite), IdleTimeout: or(t.Idle, defaultIdle)}
	base, stop := context.WithCancelCause(context.Background())
	srv.BaseContext = func(net.Listener) context.Context { return base }
	return &Server{srv: srv, ln: ln, stop: stop}, nil
}

// cutReads has a request's body reads end when the shutdown cuts the
// requests short (see Serve), as its context does: a read waiting for a
// client that stalls mid-body (an upload, a webhook) would otherwise hold
// its handler, unanswered, for the whole grace. From then on a Read fails at
// once with an error that is context.Canceled and ErrShuttingDown.
func cutReads(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		body := r.Body
		r.Body = &cutBody{ReadCloser: body, ctx: ctx}
		// net/http looks at the request's own body once the handler
		// returns, to answer one that awaits a 100-continue without
		// waiting for it, and to close the connection rather than read
		// a large body the handler left: it must find its own there.
		defer func() { r.Body = body }()
		stop := context.AfterFunc(ctx, func() {
			if errors.Is(context.Cause(ctx), ErrShuttingDown) {
				_ = http.NewResponseController(w).SetReadDeadline(time.Now()) // a Read waiting now returns
			}
		})
		defer stop()
		h.ServeHTTP(w, r)
	})
}

// cutBody is a request body whose reads fail once the shutdown cut its
// request short.
type cutBody struct {
	io.ReadCloser
	ctx context.Context
}

func (b *cutBody) Read(p []byte) (int, error) {
	if err := b.cut(); err != nil {
		return 0, err
	}
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		if cerr := b.cut(); cerr != nil {
			err = cerr
		}
	}
	return n, err
}

// cut is the error of a read once the shutdown cut the request short, or nil.
func (b *cutBody) cut() error {
	if b.ctx.Err() == nil || !errors.Is(context.Cause(b.ctx), ErrShuttingDown) {
		return nil
	}
	return fmt.Errorf("request body: %w: %w", ErrShuttingDown, b.ctx.Err())
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx is done, then shuts down within grace: it takes
// no new connection, and lets the requests running finish. Half-way
// through the grace, those still running have their contexts end with
// ErrShuttingDown: a long one (an upload streaming rows) stops and answers
// with what it did, before the process exits; at the end of the grace the
// connections left are closed.
func (s *Server) Serve(ctx context.Context, grace time.Duration) error {
	defer s.stop(nil)
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("httpserve: %w", err)
	case <-ctx.Done():
	}
	cut := time.AfterFunc(grace/2, func() { s.stop(ErrShuttingDown) })
	defer cut.Stop()
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		_ = s.srv.Close()
		return fmt.Errorf("httpserve: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close releases the port of a server that will not serve.
func (s *Server) Close() error { return s.ln.Close() }
