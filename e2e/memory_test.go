package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The api's documented memory bound (docs/architecture.md, "Bounded
// memory"): peak RSS under 64 MiB, plus 32 MiB per intake request read at
// once (MMLITE_MAX_INTAKE), plus 4 times MMLITE_MAX_WEBHOOK_BODY per
// large-webhook slot. With the defaults (8 intake requests, 4 slots of
// 8 MiB bodies) that is 448 MiB. Per intake request, by construction: 8 MiB
// of jobs waiting for Redis, a batch being filled (up to 2 MiB), one value
// or row of up to 1 MiB decoded and encoded again (about 6 MiB), the
// decoder's buffer (2 MiB); doubled for Go's garbage collector (GOGC=100).
const (
	memBase       = 64 << 20
	memPerIntake  = 32 << 20
	memPerWebhook = 4 * (8 << 20)
	maxIntake     = 8 // the default of MMLITE_MAX_INTAKE
	webhookSlots  = 4 // httpapi.DefaultLargeWebhooks
	memBound      = memBase + maxIntake*memPerIntake + webhookSlots*memPerWebhook
)

// apiProcess is `mmlite api` run as a process, as a container would.
type apiProcess struct {
	cmd  *exec.Cmd
	out  *redistest.SyncBuffer
	addr string
}

func startAPI(t *testing.T, bin string, r *redistest.Redis) *apiProcess {
	t.Helper()
	a := &apiProcess{out: &redistest.SyncBuffer{}}
	a.cmd = exec.Command(bin, "api")
	a.cmd.Env = append(os.Environ(), "MMLITE_REDIS_URL="+r.URL, "MMLITE_QUEUE="+r.Queue, "MMLITE_RESULTS_QUEUE="+r.Results,
		"MMLITE_HTTP_ADDR=127.0.0.1:0", "MMLITE_API_TOKEN="+apiToken, "MMLITE_META_APP_SECRET=app-secret",
		"MMLITE_RATE=1000", "MMLITE_LOG_FORMAT=json", "MMLITE_LOG_LEVEL=info")
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	a.cmd.SysProcAttr = redistest.ChildAttr()
	require.NoError(t, a.cmd.Start())
	t.Cleanup(func() {
		if a.cmd.ProcessState == nil {
			_ = a.cmd.Process.Kill()
			_ = a.cmd.Wait()
		}
	})
	require.Eventually(t, func() bool {
		for _, line := range strings.Split(a.out.String(), "\n") {
			var l struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "api listening" {
				a.addr = l.Addr
				return true
			}
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "the api did not start:\n%s", a.out)
	return a
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func (a *apiProcess) peakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", a.cmd.Process.Pid))
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", a.cmd.Process.Pid)
	return 0
}

// resetPeak starts peakRSS again from the current RSS (Linux 4.0 and
// later), so that each load shows its own peak; false when it cannot.
func (a *apiProcess) resetPeak() bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", a.cmd.Process.Pid), []byte("5"), 0) == nil
}

// watch kills the api when its peak RSS passes limit, so that a run on code
// without the bound fails instead of taking the machine's memory.
func (a *apiProcess) watch(t *testing.T, limit int64) (stop func() bool) {
	done, killed := make(chan struct{}), make(chan bool, 1)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				killed <- false
				return
			case <-tick.C:
			}
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", a.cmd.Process.Pid))
			if err != nil {
				continue
			}
			if i := bytes.Index(b, []byte("VmHWM:")); i >= 0 {
				var kb int64
				_, _ = fmt.Sscanf(string(b[i+len("VmHWM:"):]), "%d", &kb)
				if kb<<10 > limit {
					_ = a.cmd.Process.Kill()
					<-done
					killed <- true
					return
				}
			}
		}
	}()
	return func() bool { close(done); return <-killed }
}

// repeat yields p n times without holding more than p.
type repeat struct {
	p   []byte
	n   int64
	off int
}

func (r *repeat) Read(b []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := 0
	for k < len(b) && r.n > 0 {
		c := copy(b[k:], r.p[r.off:])
		k += c
		if r.off += c; r.off == len(r.p) {
			r.off, r.n = 0, r.n-1
		}
	}
	return k, nil
}

// numbered yields n items made by item(i), all of the same length, without
// holding more than one.
type numbered struct {
	item func(i int64) string
	i, n int64
	cur  []byte
}

func (r *numbered) Read(b []byte) (int, error) {
	k := 0
	for k < len(b) {
		if len(r.cur) == 0 {
			if r.i == r.n {
				break
			}
			r.cur = []byte(r.item(r.i))
			r.i++
		}
		c := copy(b[k:], r.cur)
		k += c
		r.cur = r.cur[c:]
	}
	if k == 0 {
		return 0, io.EOF
	}
	return k, nil
}

// body is a request body made on the fly, and its length.
type body struct {
	parts []io.Reader
	size  int64
}

func (b *body) str(s string) *body {
	b.parts = append(b.parts, strings.NewReader(s))
	b.size += int64(len(s))
	return b
}

func (b *body) rep(p string, n int64) *body {
	b.parts = append(b.parts, &repeat{p: []byte(p), n: n})
	b.size += int64(len(p)) * n
	return b
}

// reply is an answer of the api.
type reply struct {
	code int
	raw  string
	body map[string]any
}

// rows is accepted + duplicates + rejected of the answer's summary.
func (r reply) rows() int64 {
	s, ok := r.body["summary"].(map[string]any)
	if !ok {
		s = r.body
	}
	n := 0.0
	for _, k := range []string{"accepted", "duplicates", "rejected"} {
		v, _ := s[k].(float64)
		n += v
	}
	return int64(n)
}

// send posts a body over its own connection and reads the answer while the
// body is still being written: the api may answer (and stop reading) before
// the body ends, which net/http's client may report as a write error.
func send(addr, path, contentType string, hdr []string, b *body) (reply, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return reply{}, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Minute))
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n", path, addr, contentType, b.size)
	for i := 0; i+1 < len(hdr); i += 2 {
		head += hdr[i] + ": " + hdr[i+1] + "\r\n"
	}
	go func() {
		w := bufio.NewWriterSize(conn, 64<<10)
		if _, err := io.Copy(w, io.MultiReader(append([]io.Reader{strings.NewReader(head + "\r\n")}, b.parts...)...)); err == nil {
			_ = w.Flush()
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{code: resp.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r, nil
}

func campaignBody(id string) string {
	return `{"id": "` + id + `", "template": {"name": "t", "language": {"code": "en"}}}`
}

func (b *body) gen(n int64, item func(i int64) string) *body {
	b.parts = append(b.parts, &numbered{item: item, n: n})
	b.size += int64(len(item(0))) * n
	return b
}

// smallRows is n recipients of 26 bytes each, each with its own number.
func smallRows(b *body, n int64) *body {
	return b.gen(n, func(i int64) string {
		if i == 0 {
			return fmt.Sprintf(`  {"to": "4477%08d"}`, i)
		}
		return fmt.Sprintf(`, {"to": "4477%08d"}`, i)
	})
}

// load is one kind of request and the answer it must get.
type load struct {
	name string
	path string
	ct   string
	hdr  []string
	make func() *body
	want int
	// check looks at an answer of the right status.
	check func(t *testing.T, r reply)
}

func memoryLoads() []load {
	auth := []string{"Authorization", "Bearer " + apiToken}
	return []load{{
		// (a) a CSV whose quoted field runs over 150 MB of 1 KiB lines.
		name: "csv-150MB-field", path: "/v1/campaigns/mem-csv/recipients", ct: "text/csv", hdr: auth,
		make: func() *body {
			b := (&body{}).str("to,meta.note\n")
			for i := range 1000 {
				b.str(fmt.Sprintf("4477009%05d,ok\n", i))
			}
			return b.str(`447700999999,"`).rep(strings.Repeat("x", 1023)+"\n", 150_000).str("\"\n")
		},
		want: http.StatusBadRequest,
		check: func(t *testing.T, r reply) {
			assert.Contains(t, r.raw, "longer than 1048576 bytes")
			assert.EqualValues(t, 1000, r.rows(), r.raw)
		},
	}, {
		// (b) a recipient holding a 60 MB string.
		name: "json-60MB-string", path: "/v1/campaigns", ct: "application/json", hdr: auth,
		make: func() *body {
			b := (&body{}).str(`{"campaign": ` + campaignBody("mem-huge") + `, "recipients": [`)
			return smallRows(b, 3).str(`, {"to": "447700900002", "metadata": {"note": "`).rep("x", 60_000_000).str(`"}}]}`)
		},
		want: http.StatusBadRequest,
		check: func(t *testing.T, r reply) {
			assert.Contains(t, r.body["error"], "recipients[3]: larger than 1048576 bytes")
			assert.EqualValues(t, 3, r.rows(), r.raw)
		},
	}, {
		// (c) a campaign with 200,000 small recipients.
		name: "json-200k-rows", path: "/v1/campaigns", ct: "application/json", hdr: auth,
		make: func() *body {
			b := (&body{}).str(`{"campaign": ` + campaignBody("mem-rows") + `, "open": true, "recipients": [`)
			return smallRows(b, 200_000).str(`]}`)
		},
		want:  http.StatusAccepted,
		check: func(t *testing.T, r reply) { assert.EqualValues(t, 200_000, r.rows(), r.raw) },
	}, {
		// Rows as large as allowed (900 KiB of template text each): the
		// batches in flight, not the reader, are what such a body costs.
		name: "json-large-rows", path: "/v1/campaigns", ct: "application/json", hdr: auth,
		make: func() *body {
			b := (&body{}).str(`{"campaign": ` + campaignBody("mem-large") + `, "open": true, "recipients": [`)
			for i := range 60 {
				if i > 0 {
					b.str(", ")
				}
				b.str(fmt.Sprintf(`{"to": "4477008%05d", "components": [{"type": "body", "parameters": [{"type": "text", "text": "`, i)).
					rep("y", 900<<10).str(`"}]}]}`)
			}
			return b.str(`]}`)
		},
		want:  http.StatusAccepted,
		check: func(t *testing.T, r reply) { assert.EqualValues(t, 60, r.rows(), r.raw) },
	}, {
		// An 8 MiB webhook without credentials (the api is set up for
		// Meta: a signature, no secret): refused before it is read.
		name: "webhook-8MiB-unsigned", path: "/webhooks/whatsapp", ct: "application/json",
		make: func() *body {
			b := (&body{}).str(`{"object": "whatsapp_business_account", "pad": "`)
			return b.rep("z", 8<<20-b.size-2).str(`"}`)
		},
		want:  http.StatusUnauthorized,
		check: func(t *testing.T, r reply) { assert.Contains(t, r.raw, "webhook not authenticated: signature") },
	}, {
		// The same with a forged signature: the api must read the body to
		// know it is wrong.
		name: "webhook-8MiB-forged", path: "/webhooks/whatsapp", ct: "application/json",
		hdr: []string{"X-Hub-Signature-256", "sha256=" + strings.Repeat("0", 64)},
		make: func() *body {
			b := (&body{}).str(`{"object": "whatsapp_business_account", "pad": "`)
			return b.rep("z", 8<<20-b.size-2).str(`"}`)
		},
		want:  http.StatusUnauthorized,
		check: func(t *testing.T, r reply) { assert.Contains(t, r.raw, "webhook not authenticated: signature") },
	}}
}

// The api's memory stays within its documented bound whatever the bodies:
// a 150 MB quoted CSV field, a 60 MB JSON string, 200,000 rows, rows of
// 900 KiB, 8 MiB unsigned webhooks, one at a time and 32 (plus 32 webhooks)
// at once. Peak RSS is read from /proc/<pid>/status (VmHWM).
func TestAPI_MemoryStaysWithinBound(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS is read from /proc/<pid>/status (VmHWM), which only Linux has")
	}
	if testing.Short() {
		t.Skip("sends about 2 GB to the api")
	}
	bin := buildMMLite(t)
	r := redistest.New(t)
	api := startAPI(t, bin, r)
	auth := []string{"Authorization", "Bearer " + apiToken}
	do := func(l load) reply {
		t.Helper()
		a, err := send(api.addr, l.path, l.ct, l.hdr, l.make())
		require.NoError(t, err, "%s:\n%s", l.name, api.out)
		if assert.Equal(t, l.want, a.code, "%s: %.300s", l.name, a.raw) {
			l.check(t, a)
		}
		return a
	}
	created := do(load{name: "campaign for the CSV uploads", path: "/v1/campaigns", ct: "application/json", hdr: auth,
		make: func() *body { return (&body{}).str(`{"campaign": ` + campaignBody("mem-csv") + `}`) },
		want: http.StatusAccepted, check: func(t *testing.T, r reply) {}})
	require.EqualValues(t, 0, created.rows())
	base := api.peakRSS(t)
	stop := api.watch(t, 4*memBound)

	loads := memoryLoads()
	peak := base
	for _, l := range loads { // one at a time
		api.resetPeak()
		start := time.Now()
		do(l)
		p := api.peakRSS(t)
		peak = max(peak, p)
		t.Logf("%s: peak RSS %.1f MiB, %s", l.name, float64(p)/(1<<20), time.Since(start).Round(time.Millisecond))
	}
	api.resetPeak()
	// 32 requests at once, a mix of the above, with 32 unsigned 8 MiB
	// webhooks besides.
	start := time.Now()
	var wg sync.WaitGroup
	type outcome struct {
		l   load
		a   reply
		err error
	}
	out := make([]outcome, 64)
	intake, hooks := loads[:len(loads)-2], loads[len(loads)-2:]
	for i := range out {
		l := hooks[i%2]
		if i < 32 {
			l = intake[i%len(intake)]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := send(api.addr, l.path, l.ct, l.hdr, l.make())
			out[i] = outcome{l, a, err}
		}()
	}
	wg.Wait()
	killed := stop()
	if !killed {
		p := api.peakRSS(t)
		peak = max(peak, p)
		t.Logf("32 intake requests and 32 webhooks at once: peak RSS %.1f MiB, %s", float64(p)/(1<<20), time.Since(start).Round(time.Millisecond))
	}
	t.Logf("peak RSS of the api %.1f MiB (%.1f MiB at start), bound %d MiB", float64(peak)/(1<<20), float64(base)/(1<<20), memBound>>20)
	for _, o := range out {
		if assert.NoError(t, o.err, o.l.name) && assert.Equal(t, o.l.want, o.a.code, "%s: %.300s", o.l.name, o.a.raw) {
			o.l.check(t, o.a)
		}
	}

	require.False(t, killed, "the api went past 4 times its bound and was stopped:\n%s", tail(api.out.String()))
	require.LessOrEqual(t, peak, int64(memBound), "peak RSS %d MiB over the documented bound", peak>>20)

	// Still healthy, and still working.
	resp, err := http.Get("http://" + api.addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	do(load{name: "a small campaign after", path: "/v1/campaigns", ct: "application/json", hdr: auth,
		make: func() *body {
			return smallRows((&body{}).str(`{"campaign": `+campaignBody("mem-after")+`, "recipients": [`), 2).str(`]}`)
		},
		want: http.StatusAccepted, check: func(t *testing.T, r reply) { require.EqualValues(t, 2, r.rows()) }})
	require.NotContains(t, api.out.String(), `"level":"ERROR"`, "no server error was logged")
}

// tail is the end of a process's output.
func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}
