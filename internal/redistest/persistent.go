package redistest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Persistent is a redis-server with its append-only file on, which a test
// may stop (SHUTDOWN, as an operator or an orchestrator does) and start
// again on the same port from the same directory: the restarted server
// reloads what the first one wrote, as after a Redis restart in production.
type Persistent struct {
	Addr string // 127.0.0.1:port
	URL  string // redis://127.0.0.1:port/0
	port int
	dir  string
	proc *process
}

// StartPersistent starts a redis-server with AOF (fsync every second) on a
// free loopback port. It stops when t ends. The test is skipped, saying
// why, when redis-server is not installed.
func StartPersistent(t testing.TB) *Persistent {
	t.Helper()
	needBinaries(t, "redis-server")
	s := &Persistent{dir: t.TempDir()}
	for range 5 {
		s.port = freePort(t, false)
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
		if s.start(t) {
			s.URL = "redis://" + s.Addr + "/0"
			return s
		}
	}
	t.Fatal("redistest: persistent redis-server: no port it could bind")
	return nil
}

// Shutdown stops the server with SHUTDOWN, which writes the AOF to disk,
// and waits until the process has exited.
func (s *Persistent) Shutdown(t testing.TB) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	// The server closes the connection instead of answering.
	_ = c.Shutdown(context.Background()).Err()
	select {
	case <-s.proc.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("redistest: redis-server on %s did not exit after SHUTDOWN", s.Addr)
	}
}

// Restart starts the server again on the same port and directory and waits
// until it answers PING, that is until it has reloaded its AOF.
func (s *Persistent) Restart(t testing.TB) {
	t.Helper()
	if !s.start(t) {
		t.Fatalf("redistest: redis-server could not start again on %s (port taken?)", s.Addr)
	}
}

// start runs the server and waits until that very process answers PING;
// false when it exited first.
func (s *Persistent) start(t testing.TB) bool {
	t.Helper()
	s.proc = run(t, "persistent", s.dir, "--bind", "127.0.0.1", "--port", strconv.Itoa(s.port), "--dir", s.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "everysec")
	exited := false
	waitFor(t, "the persistent redis-server to answer on "+s.Addr, func(ctx context.Context) bool {
		select {
		case <-s.proc.exited:
			exited = true
			return true
		default:
		}
		c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
		defer c.Close()
		info, err := c.Info(ctx, "server").Result()
		if err != nil || !strings.Contains(info, fmt.Sprintf("process_id:%d\r\n", s.proc.cmd.Process.Pid)) {
			return false
		}
		return c.Ping(ctx).Err() == nil // not while it loads its AOF
	})
	if exited {
		t.Logf("redistest: persistent redis-server exited, port %d taken?\n%s", s.port, lastLines(s.proc.out.String(), 5))
	}
	return !exited
}
