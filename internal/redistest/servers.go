package redistest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The functions below start real multi-node Redis setups from the
// redis-server and redis-cli on PATH, on loopback ports, for tests of the
// redis-cluster:// and redis-sentinel:// forms of MMLITE_REDIS_URL. A test is
// skipped, saying why, when redis-server is not installed.

// StartCluster starts a Redis Cluster of masters nodes (3 at least) and
// returns its redis-cluster:// URL. The nodes stop when t ends.
func StartCluster(t testing.TB, masters int) string {
	t.Helper()
	needBinaries(t, "redis-server", "redis-cli")
	addrs := make([]string, masters)
	for i := range addrs {
		port := startOnFreePort(t, fmt.Sprintf("cluster-%d", i), true, func(port int, _ string) []string {
			return []string{"--port", strconv.Itoa(port), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
				"--cluster-node-timeout", "15000"}
		})
		addrs[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	waitFor(t, "the cluster to be ok", func(ctx context.Context) bool {
		for _, a := range addrs {
			c := redis.NewClient(&redis.Options{Addr: a})
			info, err := c.ClusterInfo(ctx).Result()
			_ = c.Close()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				return false
			}
		}
		return true
	})
	return "redis-cluster://" + strings.Join(addrs, ",")
}

// Sentinel is a master, its replica and a Sentinel watching them.
type Sentinel struct {
	URL      string // redis-sentinel://sentinel/0?master=NAME
	Master   string // the master's address when started
	Replica  string // the replica's address when started
	sentinel string
	name     string
}

// StartSentinel starts a master, a replica of it and one Sentinel, and
// waits until the replica is in sync. They stop when t ends.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	needBinaries(t, "redis-server")
	s := &Sentinel{name: "mmlite-test"}
	mport := startOnFreePort(t, "master", false, func(port int, _ string) []string {
		return []string{"--port", strconv.Itoa(port)}
	})
	rport := startOnFreePort(t, "replica", false, func(port int, _ string) []string {
		return []string{"--port", strconv.Itoa(port), "--replicaof", "127.0.0.1", strconv.Itoa(mport)}
	})
	s.Master = net.JoinHostPort("127.0.0.1", strconv.Itoa(mport))
	s.Replica = net.JoinHostPort("127.0.0.1", strconv.Itoa(rport))
	waitFor(t, "the replica to sync", func(ctx context.Context) bool {
		c := redis.NewClient(&redis.Options{Addr: s.Replica})
		defer c.Close()
		info, err := c.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	// Sentinel rewrites its configuration file, so it gets one of its own.
	sport := startOnFreePort(t, "sentinel", false, func(port int, dir string) []string {
		conf := filepath.Join(dir, "sentinel.conf")
		body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s 127.0.0.1 %d 1\n"+
			"sentinel down-after-milliseconds %s 30000\nsentinel failover-timeout %s 10000\n",
			port, dir, s.name, mport, s.name, s.name)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return []string{conf, "--sentinel"}
	})
	s.sentinel = net.JoinHostPort("127.0.0.1", strconv.Itoa(sport))
	waitFor(t, "Sentinel to see the replica", func(ctx context.Context) bool {
		c := redis.NewSentinelClient(&redis.Options{Addr: s.sentinel})
		defer c.Close()
		replicas, err := c.Replicas(ctx, s.name).Result()
		return err == nil && len(replicas) == 1
	})
	s.URL = fmt.Sprintf("redis-sentinel://%s/0?master=%s", s.sentinel, s.name)
	return s
}

// Failover promotes the replica and waits until Sentinel names it master,
// it accepts writes, and the old master has become its replica in sync
// (until then a client still on the old master could write there, and
// lose the write when it resyncs).
func (s *Sentinel) Failover(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	c := redis.NewSentinelClient(&redis.Options{Addr: s.sentinel})
	defer c.Close()
	if err := c.Failover(ctx, s.name).Err(); err != nil {
		t.Fatalf("redistest: SENTINEL FAILOVER: %v", err)
	}
	waitFor(t, "the failover", func(ctx context.Context) bool {
		addr, err := c.GetMasterAddrByName(ctx, s.name).Result()
		if err != nil || net.JoinHostPort(addr[0], addr[1]) != s.Replica {
			return false
		}
		r := redis.NewClient(&redis.Options{Addr: s.Replica})
		defer r.Close()
		role, err := r.Do(ctx, "ROLE").Slice()
		if err != nil || len(role) == 0 || role[0] != "master" {
			return false
		}
		old := redis.NewClient(&redis.Options{Addr: s.Master})
		defer old.Close()
		info, err := old.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "role:slave") && strings.Contains(info, "master_link_status:up")
	})
}

// startOnFreePort starts a redis-server on a free loopback port and returns
// the port. args gives the server's arguments for a port and the server's
// own directory. A port found free can be taken by another test before the
// server binds it; the server then exits and another port is tried.
func startOnFreePort(t testing.TB, name string, withBus bool, args func(port int, dir string) []string) int {
	t.Helper()
	for range 5 {
		port := freePort(t, withBus)
		if startServer(t, name, port, args) {
			return port
		}
	}
	t.Fatalf("redistest: redis-server %s: no port it could bind", name)
	return 0
}

// startServer runs a redis-server without persistence in a directory of its
// own and waits until that very process answers on port; false when it
// exited first.
func startServer(t testing.TB, name string, port int, args func(port int, dir string) []string) bool {
	t.Helper()
	dir := t.TempDir()
	all := args(port, dir)
	if strings.HasPrefix(all[0], "--") { // else a configuration file (Sentinel's) says it all
		all = append([]string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}, all...)
	}
	p := run(t, name, dir, all...)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	exited := false
	waitFor(t, name+" to answer on "+addr, func(ctx context.Context) bool {
		select {
		case <-p.exited:
			exited = true
			return true
		default:
		}
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		info, err := c.Info(ctx, "server").Result()
		return err == nil && strings.Contains(info, fmt.Sprintf("process_id:%d\r\n", p.cmd.Process.Pid))
	})
	if exited {
		t.Logf("redistest: redis-server %s exited, port %d taken?\n%s", name, port, lastLines(p.out.String(), 5))
	}
	return !exited
}

type process struct {
	cmd    *exec.Cmd
	out    *SyncBuffer
	exited chan struct{}
}

// run starts redis-server with args and stops it when t ends (or when the
// test binary dies); its output is shown if the test fails.
func run(t testing.TB, name, dir string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command("redis-server", args...), out: &SyncBuffer{}, exited: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = ChildAttr()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("redistest: start redis-server (%s): %v", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("redis-server %s:\n%s", name, lastLines(p.out.String(), 20))
		}
	})
	return p
}

// SyncBuffer is a bytes.Buffer that a process or a logger writes while a
// test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// JSONLines decodes the JSON lines written so far (a JSON logger's), and
// fails t on a line that is not JSON.
func (s *SyncBuffer) JSONLines(t testing.TB) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		lines = append(lines, m)
	}
	return lines
}

func needBinaries(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("needs %s on PATH (Debian: apt-get install redis-server redis-tools)", n)
		}
	}
}

// freePort finds a free loopback port; for a cluster node, the bus port
// (port + 10000) must be free too.
func freePort(t testing.TB, withBus bool) int {
	t.Helper()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if !withBus {
			return port
		}
		if port+10000 > 65535 {
			continue
		}
		if bus, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000))); err == nil {
			_ = bus.Close()
			return port
		}
	}
	t.Fatal("redistest: no free port")
	return 0
}

func waitFor(t testing.TB, what string, ok func(context.Context) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		done := ok(ctx)
		cancel()
		if done {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("redistest: timed out waiting for %s", what)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
