package deploy_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------- PromQL reference checks

var (
	metricRef   = regexp.MustCompile(`\b((?:mmlite|asynq)_[A-Za-z0-9_]*[A-Za-z0-9])\b\s*(\{[^}]*\})?`)
	matcherRe   = regexp.MustCompile(`(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"`)
	groupingRe  = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	labelValues = regexp.MustCompile(`label_values\(\s*(\w+)\s*,\s*(\w+)\s*\)`)
	// Labels Prometheus or the Prometheus Operator attach to every target.
	targetLabels = map[string]bool{"job": true, "instance": true, "namespace": true, "pod": true, "service": true,
		"container": true, "endpoint": true, "le": true, "quantile": true}
)

func groupingLabels(expr string) []string {
	var out []string
	for _, m := range groupingRe.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(m[1], ",") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

// family maps a series name to its metric family (histogram suffixes).
func family(name string) string {
	for _, s := range []string{"_bucket", "_sum", "_count"} {
		name = strings.TrimSuffix(name, s)
	}
	return name
}

// exposition is what a scrape of /metrics says.
type exposition struct {
	types  map[string]string                     // family -> type, from # TYPE
	names  map[string]bool                       // every name a query may use
	labels map[string]map[string]map[string]bool // family -> label -> values seen
}

func newExposition() *exposition {
	return &exposition{types: map[string]string{}, names: map[string]bool{}, labels: map[string]map[string]map[string]bool{}}
}

var seriesRe = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s`)

func (e *exposition) parse(t testing.TB, text string) {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if f := strings.Fields(l); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			e.types[f[2]] = f[3]
			e.names[f[2]] = true
			if f[3] == "histogram" || f[3] == "summary" {
				e.names[f[2]+"_sum"], e.names[f[2]+"_count"] = true, true
			}
			if f[3] == "histogram" {
				e.names[f[2]+"_bucket"] = true
			}
			continue
		}
		m := seriesRe.FindStringSubmatch(l)
		if m == nil || strings.HasPrefix(l, "#") {
			continue
		}
		fam := m[1]
		if _, ok := e.types[fam]; !ok {
			fam = family(fam)
		}
		if e.labels[fam] == nil {
			e.labels[fam] = map[string]map[string]bool{}
		}
		for _, lm := range regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(m[3], -1) {
			if e.labels[fam][lm[1]] == nil {
				e.labels[fam][lm[1]] = map[string]bool{}
			}
			e.labels[fam][lm[1]][lm[2]] = true
		}
	}
}

// checkQuery checks every mmlite_* and asynq_* name a query uses, its label
// matchers (names, and literal values against the values the binary
// exports), and its grouping labels.
func (e *exposition) checkQuery(t *testing.T, q query) {
	t.Helper()
	used := map[string]bool{}
	for _, m := range metricRef.FindAllStringSubmatch(q.expr, -1) {
		name, fam := m[1], family(m[1])
		if !e.names[name] && !e.names[fam] {
			t.Errorf("%s: metric %s is not exported by the worker or the api (query: %s)", q.source, name, q.expr)
			continue
		}
		if _, ok := e.types[name]; ok {
			fam = name
		}
		used[fam] = true
		for _, mm := range matcherRe.FindAllStringSubmatch(m[2], -1) {
			label, op, value := mm[1], mm[2], mm[3]
			if targetLabels[label] {
				continue
			}
			values, ok := e.labels[fam][label]
			if !ok {
				t.Errorf("%s: %s has no label %q (query: %s)", q.source, fam, label, q.expr)
				continue
			}
			if strings.Contains(value, "$") {
				continue // a dashboard variable
			}
			var literals []string
			switch {
			case op == "=" || op == "!=":
				literals = []string{value}
			case regexp.MustCompile(`^[\w-]+(\|[\w-]+)*$`).MatchString(value):
				literals = strings.Split(value, "|")
			}
			for _, v := range literals {
				if !values[v] {
					t.Errorf("%s: %s{%s} never has the value %q; it has %v (query: %s)", q.source, fam, label, v, sortedKeys(values), q.expr)
				}
			}
		}
	}
	for _, m := range labelValues.FindAllStringSubmatch(q.expr, -1) {
		if _, ok := e.labels[m[1]][m[2]]; !ok {
			t.Errorf("%s: %s has no label %q", q.source, m[1], m[2])
		}
	}
	for _, l := range groupingLabels(q.expr) {
		if targetLabels[l] {
			continue
		}
		found := false
		for fam := range used {
			_, ok := e.labels[fam][l]
			found = found || ok
		}
		if !found {
			t.Errorf("%s: groups by %q, a label none of its metrics has (query: %s)", q.source, l, q.expr)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// -------------------------------------------------------- against the binary

type cli struct {
	commands map[string]bool            // top-level commands
	env      map[string]map[string]bool // MMLITE_* -> commands that read it
	defaults map[string]map[string]bool // MMLITE_* -> its flag's defaults as --help shows them (demo's logs differ)
}

func helpText(t testing.TB, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, append(args, "--help")...).CombinedOutput()
	require.NoError(t, err, "mmlite %s --help: %s", strings.Join(args, " "), out)
	return string(out)
}

func subcommands(help string) []string {
	var out []string
	_, after, ok := strings.Cut(help, "COMMANDS:\n")
	if !ok {
		return nil
	}
	for _, l := range strings.Split(after, "\n") {
		if strings.TrimSpace(l) == "" {
			break
		}
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(l, "   ") && !strings.HasPrefix(l, "     ") {
			out = append(out, strings.TrimSuffix(f[0], ","))
		}
	}
	return out
}

var (
	helpEnv     = regexp.MustCompile(`\$(MMLITE_[A-Z0-9_]+)`)
	helpDefault = regexp.MustCompile(`\(default: ([^()]*)\) \[\$(MMLITE_[A-Z0-9_]+)\]`)
)

func readCLI(t testing.TB, bin string) cli {
	t.Helper()
	c := cli{commands: map[string]bool{}, env: map[string]map[string]bool{}, defaults: map[string]map[string]bool{}}
	add := func(help, cmd string) {
		for _, m := range helpDefault.FindAllStringSubmatch(help, -1) {
			if c.defaults[m[2]] == nil {
				c.defaults[m[2]] = map[string]bool{}
			}
			c.defaults[m[2]][strings.Trim(m[1], `"`)] = true
		}
		for _, m := range helpEnv.FindAllStringSubmatch(help, -1) {
			if c.env[m[1]] == nil {
				c.env[m[1]] = map[string]bool{}
			}
			c.env[m[1]][cmd] = true
		}
	}
	top := helpText(t, bin)
	add(top, "mmlite")
	for _, cmd := range subcommands(top) {
		c.commands[cmd] = true
		h := helpText(t, bin, cmd)
		add(h, cmd)
		for _, sub := range subcommands(h) {
			add(helpText(t, bin, cmd, sub), cmd+" "+sub)
		}
	}
	require.True(t, c.commands["worker"] && c.commands["api"] && c.commands["healthcheck"], "mmlite --help lists %v", c.commands)
	require.Contains(t, c.env, "MMLITE_SHUTDOWN_TIMEOUT", "--help lists the variables as [$MMLITE_...]")
	return c
}

type proc struct {
	name string
	base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	out  *redistest.SyncBuffer
	done chan struct{}
	err  error // valid once done is closed
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// startProcess runs `mmlite args...` with exactly env (plus PATH and HOME),
// waits until GET base/healthz answers, and stops it with SIGTERM at the
// end of the test, checking that it exits 0 within stopWithin.
func startProcess(t *testing.T, bin, name, addr string, env map[string]string, stopWithin time.Duration, readyPath string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, base: "http://" + addr, cmd: exec.Command(bin, args...), out: &redistest.SyncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	require.NoError(t, p.cmd.Start(), "start %s", name)
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.exited() {
			return
		}
		start := time.Now()
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
			if p.err != nil {
				t.Errorf("%s: exit after SIGTERM: %v\n%s", name, p.err, p.out.String())
			}
			t.Logf("%s stopped on SIGTERM in %s", name, time.Since(start).Round(time.Millisecond))
		case <-time.After(stopWithin):
			_ = p.cmd.Process.Kill()
			<-p.done
			t.Errorf("%s did not stop within %s of SIGTERM\n%s", name, stopWithin, p.out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if p.exited() {
			require.Fail(t, name+" exited at start", "%v\n%s", p.err, p.out.String())
		}
		if code, _ := httpGet(p.base + readyPath); code == http.StatusOK {
			return p
		}
		if time.Now().After(deadline) {
			require.Fail(t, name+" did not answer in time", "GET %s%s\n%s", p.base, readyPath, p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

func httpGet(u string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err.Error()
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// k8sProcessEnv is a Deployment container's environment for a local run:
// literal values as they are, Secret references filled with stand-ins.
func k8sProcessEnv(c obj, redisURL string) map[string]string {
	env := map[string]string{}
	for _, e := range containerEnv(c) {
		switch {
		case e.name == "MMLITE_REDIS_URL":
			env[e.name] = redisURL
		case e.fromSecret:
			env[e.name] = "test-" + strings.ToLower(e.secretKey)
		default:
			env[e.name] = e.value
		}
	}
	return env
}

func TestAgainstBinary(t *testing.T) {
	bin := buildBinary(t)
	root := repoRoot(t)
	c := readCLI(t, bin)
	ms := loadManifests(t)
	co := loadCompose(t)

	// Every MMLITE_* name in the deployment assets and docs is one the binary reads.
	t.Run("MMLITE variables are known to the binary", func(t *testing.T) {
		var files []string
		for _, f := range []string{"Dockerfile", "docker-compose.yml", ".dockerignore"} {
			files = append(files, filepath.Join(root, f))
		}
		require.NoError(t, filepath.WalkDir(filepath.Join(root, "deploy"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".go") {
				files = append(files, p)
			}
			return err
		}))
		tok := regexp.MustCompile(`\bMMLITE_[A-Z0-9_]*[A-Z0-9]\b`)
		seen := 0
		for _, f := range files {
			rel, _ := filepath.Rel(root, f)
			for _, name := range tok.FindAllString(string(readFile(t, f)), -1) {
				seen++
				if co.vars[name] {
					continue // a variable docker-compose.yml interpolates (${...}), not mmlite's
				}
				assert.Contains(t, c.env, name, "%s: %s is not a variable of any mmlite command", rel, name)
			}
		}
		assert.Greater(t, seen, 20)
		// And each role's variables are ones that role reads.
		for _, role := range []string{"api", "worker"} {
			d, _ := ms.find("Deployment", "mmlite-"+role)
			for _, e := range containerEnv(container(d)) {
				if strings.HasPrefix(e.name, "MMLITE_") {
					assert.True(t, c.env[e.name][role] || c.env[e.name]["mmlite"], "Deployment mmlite-%s: mmlite %s does not read %s", role, role, e.name)
				}
			}
			for k := range co.env(t, co.services[role]) {
				if strings.HasPrefix(k, "MMLITE_") && !strings.HasPrefix(k, "MMLITE_FAKEAPI_") {
					assert.True(t, c.env[k]["api"] || c.env[k]["worker"] || c.env[k]["mmlite"], "compose %s: %s is read by neither api nor worker", role, k)
				}
			}
		}
		for k := range inlineEnv(co.services["fakeapi"]) {
			assert.True(t, c.env[k]["fakeapi"], "compose fakeapi: mmlite fakeapi does not read %s", k)
		}
		for _, role := range []string{"api", "worker", "fakeapi"} {
			assert.True(t, c.commands[stringList(co.services[role]["command"])[0]], "compose %s: not an mmlite command", role)
		}
	})

	// Every MMLITE_* name in README.md and docs/ is one the binary reads, or
	// one the tests, the Makefile, CI or docker-compose.yml read (test knobs,
	// MMLITE_ENV_FILE); and every default in configuration.md's tables is the
	// one --help shows.
	t.Run("the docs name the binary's variables and their defaults", func(t *testing.T) {
		known := knownElsewhere(t, root)
		tok := regexp.MustCompile(`\bMMLITE_[A-Z0-9_]*[A-Z0-9]\b`)
		for _, f := range docFiles(t) {
			for i, l := range strings.Split(f.text, "\n") {
				for _, name := range tok.FindAllString(l, -1) {
					assert.True(t, c.env[name] != nil || known[name], "%s:%d: %s is no variable of any mmlite command, nor one the tests or the Makefile read", f.rel, i+1, name)
				}
			}
		}
		checked := 0
		for _, r := range configDefaults(t, string(readFile(t, filepath.Join(root, "docs", "configuration.md")))) {
			wants, ok := c.defaults[r.name]
			if !ok {
				continue // no default shown by --help (a bool, or a default in words)
			}
			checked++
			same := wants[r.value]
			for want := range wants {
				d1, err1 := time.ParseDuration(r.value)
				d2, err2 := time.ParseDuration(want)
				same = same || (err1 == nil && err2 == nil && d1 == d2)
			}
			assert.True(t, same, "docs/configuration.md:%d: %s defaults to %s, --help says %v", r.line, r.name, r.value, wants)
		}
		assert.Greater(t, checked, 25, "defaults of docs/configuration.md checked")
	})

	mr := miniredis.RunT(t)
	redisURL := "redis://" + mr.Addr() + "/0"

	// The Kubernetes configuration, run as is: worker first (it publishes its
	// senders, from the senders ConfigMap's file, so that the api exports
	// per-sender series), then the api.
	wd, _ := ms.find("Deployment", "mmlite-worker")
	wc := container(wd)
	wenv := k8sProcessEnv(wc, redisURL)
	wenv["MMLITE_API_KEY"] = "x"
	senders, _ := envValue(containerEnv(wc), "MMLITE_SENDERS_FILE")
	for _, g := range ms.kust.ConfigMapGenerator {
		for _, f := range g.Files {
			if filepath.Base(f) == filepath.Base(senders) {
				wenv["MMLITE_SENDERS_FILE"] = filepath.Join(ms.dir, f)
			}
		}
	}
	wshutdown := parseDuration(t, "MMLITE_SHUTDOWN_TIMEOUT", wenv["MMLITE_SHUTDOWN_TIMEOUT"])
	waddr := redistest.ClosedAddr(t)
	worker := startProcess(t, bin, "k8s worker", waddr, wenv, wshutdown+5*time.Second, "/healthz", "worker", "--metrics-addr", waddr)

	ad, _ := ms.find("Deployment", "mmlite-api")
	ac := container(ad)
	aaddr := redistest.ClosedAddr(t)
	api := startProcess(t, bin, "k8s api", aaddr, k8sProcessEnv(ac, redisURL), 30*time.Second, "/healthz",
		"api", "--insecure-no-auth", "--http-addr", aaddr)
	live := map[string]*proc{"worker": worker, "api": api}

	t.Run("Kubernetes probes answer 200 on the right port of the right role", func(t *testing.T) {
		for _, d := range []k8sObject{wd, ad} {
			cont := container(d)
			role := containerRole(cont)
			for _, p := range containerProbes(t, cont) {
				code, body := httpGet(live[role].base + p.path)
				assert.Equal(t, http.StatusOK, code, "%s %s: GET %s on the %s: %s", d.name(), p.kind, p.path, role, body)
			}
		}
	})

	// The compose configuration: the same roles with the env file's values.
	cw := co.services["worker"]
	cwenv := co.env(t, cw)
	cwenv["MMLITE_REDIS_URL"] = redisURL
	// A relay destination, so that the outbound metrics the alerts use are
	// exported too (nothing is relayed: no webhook reaches this worker).
	cwenv["MMLITE_WEBHOOK_FORWARD"], cwenv["MMLITE_WEBHOOK_FORWARD_SECRET"] = "http://127.0.0.1:9/hooks", "x"
	cwaddr := redistest.ClosedAddr(t)
	cshutdown := parseDuration(t, "MMLITE_SHUTDOWN_TIMEOUT", cwenv["MMLITE_SHUTDOWN_TIMEOUT"])
	cworker := startProcess(t, bin, "compose worker", cwaddr, cwenv, cshutdown+5*time.Second, "/healthz", "worker", "--metrics-addr", cwaddr)
	caenv := co.env(t, co.services["api"])
	caenv["MMLITE_REDIS_URL"] = redisURL
	caaddr := redistest.ClosedAddr(t)
	capi := startProcess(t, bin, "compose api", caaddr, caenv, 30*time.Second, "/healthz", "api", "--http-addr", caaddr)
	cfenv := co.env(t, co.services["fakeapi"])
	cfaddr := redistest.ClosedAddr(t)
	cfake := startProcess(t, bin, "compose fakeapi", cfaddr, cfenv, 15*time.Second, "/_fake/stats",
		"fakeapi", "--addr", cfaddr, "--webhook-url", capi.base+"/webhooks/whatsapp")

	t.Run("compose health checks pass with the binary's own healthcheck", func(t *testing.T) {
		for role, p := range map[string]*proc{"worker": cworker, "api": capi, "fakeapi": cfake} {
			test := stringList(get(co.services[role], "healthcheck", "test"))
			_, _, path := urlPort(t, test[3])
			u := p.base + path
			out, err := exec.Command(bin, test[2], u).CombinedOutput()
			assert.NoError(t, err, "compose %s: mmlite healthcheck %s: %s", role, u, out)
		}
		// ... and fail when nothing answers.
		err := exec.Command(bin, "healthcheck", "--timeout", "1s", "http://"+redistest.ClosedAddr(t)+"/healthz").Run()
		assert.Error(t, err, "mmlite healthcheck must fail when nothing listens")
		// The api refuses /v1 without the env file's token (auth is on).
		code, _ := httpGet(capi.base + "/v1/senders")
		assert.Equal(t, http.StatusUnauthorized, code, "compose api: /v1 requires MMLITE_API_TOKEN")
	})

	// What the metrics-based assets refer to must exist in the real scrapes.
	exp := newExposition()
	for _, p := range []*proc{worker, api, cworker, capi} {
		code, body := httpGet(p.base + "/metrics")
		require.Equal(t, http.StatusOK, code, "%s /metrics", p.name)
		exp.parse(t, body)
	}
	require.Contains(t, exp.types, "mmlite_messages_total")
	require.Equal(t, "histogram", exp.types["mmlite_api_request_duration_seconds"])

	t.Run("metrics used by alerts, dashboard and KEDA exist", func(t *testing.T) {
		var qs []query
		for _, r := range loadAlerts(t) {
			qs = append(qs, query{source: "alert " + r.Alert, expr: r.Expr})
		}
		qs = append(qs, dashboardQueries(loadDashboard(t))...)
		qs = append(qs, query{source: "KEDA ScaledObject", expr: kedaQuery(t, ms)})
		require.Greater(t, len(qs), 30)
		for _, q := range qs {
			exp.checkQuery(t, q)
		}
		// The docs name real metrics too.
		_, ops := operationsAnchors(t)
		for _, m := range metricRef.FindAllStringSubmatch(ops, -1) {
			assert.True(t, exp.names[m[1]] || exp.names[family(m[1])], "docs/operations.md names %s, which nothing exports", m[1])
		}
	})

	t.Run("the senders ConfigMap's senders are published", func(t *testing.T) {
		code, body := httpGet(capi.base + "/metrics")
		require.Equal(t, http.StatusOK, code)
		for _, ss := range ms.senders {
			for _, s := range ss {
				assert.Contains(t, body, fmt.Sprintf(`mmlite_sender_onboarded{sender=%q}`, s.ID), "the api knows sender %s", s.ID)
			}
		}
	})
}

// knownElsewhere returns the MMLITE_* names that the repository's Go files,
// Makefile, CI scripts and docker-compose.yml write.
func knownElsewhere(t *testing.T, root string) map[string]bool {
	t.Helper()
	tok := regexp.MustCompile(`\bMMLITE_[A-Z0-9_]*[A-Z0-9]\b`)
	known := map[string]bool{}
	files := []string{filepath.Join(root, "Makefile"), filepath.Join(root, "docker-compose.yml")}
	ci, _ := filepath.Glob(filepath.Join(root, ".ci", "*"))
	files = append(files, ci...)
	require.NoError(t, filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") {
			files = append(files, p)
		}
		return err
	}))
	for _, f := range files {
		if st, err := os.Stat(f); err != nil || st.IsDir() {
			continue
		}
		for _, name := range tok.FindAllString(string(readFile(t, f)), -1) {
			known[name] = true
		}
	}
	return known
}

// configDefault is a default that a table of docs/configuration.md gives a
// variable, written as one code span.
type configDefault struct {
	line        int
	name, value string
}

// configDefaults reads the tables of docs/configuration.md that have a
// "variable" and a "default" column; a row naming several variables
// (`MMLITE_LOG_LEVEL`, `MMLITE_LOG_FORMAT`) pairs them with as many defaults.
func configDefaults(t *testing.T, text string) []configDefault {
	t.Helper()
	span := regexp.MustCompile("`([^`]*)`")
	var out []configDefault
	varCol, defCol := -1, -1
	for _, l := range proseLines(text) {
		if !strings.HasPrefix(l.text, "|") {
			varCol, defCol = -1, -1
			continue
		}
		cells := strings.Split(strings.Trim(l.text, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if varCol < 0 {
			for i, c := range cells {
				switch c {
				case "variable":
					varCol = i
				case "default":
					defCol = i
				}
			}
			if varCol < 0 || defCol < 0 {
				varCol, defCol = -1, -1
			}
			continue
		}
		if defCol >= len(cells) || strings.HasPrefix(cells[varCol], "---") {
			continue
		}
		names, defs := span.FindAllStringSubmatch(cells[varCol], -1), span.FindAllStringSubmatch(cells[defCol], -1)
		if len(defs) == 0 || !strings.HasPrefix(cells[defCol], "`") {
			continue // no default, or one in words
		}
		if len(names) != len(defs) {
			defs = defs[:1]
			names = names[:1]
		}
		for i := range names {
			out = append(out, configDefault{line: l.n, name: names[i][1], value: defs[i][1]})
		}
	}
	require.NotEmpty(t, out, "docs/configuration.md: no table with a variable and a default column")
	return out
}
