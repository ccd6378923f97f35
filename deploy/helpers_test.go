// Package deploy_test checks the deployment assets (Dockerfile, .dockerignore,
// docker-compose.yml, deploy/kubernetes, deploy/prometheus, deploy/grafana,
// docs/operations.md) against each other and against what the mmlite binary
// really does: the commands and MMLITE_* variables its --help lists, the probe
// paths it answers on each role's port, and the metrics it exports.
//
// The static checks need nothing; TestAgainstBinary builds ./cmd/mmlite and
// runs a worker, an api and the fake API on an in-process miniredis. The
// promtool, docker-compose and kubectl checks are in .ci/validate.
//
// docs_test.go checks the documentation: README.md and docs/*.md link only
// to files and headings that exist, and their examples work on any day;
// TestAgainstBinary that the MMLITE_* variables they name and the defaults
// docs/configuration.md gives are the binary's.
package deploy_test

import (
	"bytes"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

const (
	modulePath  = "github.com/mmlite/mmlite"
	secretName  = "mmlite-secrets"
	runbookBase = "https://github.com/mmlite/mmlite/blob/main/docs/operations.md#"
	imageBinary = "/mmlite" // where the Dockerfile puts the binary
	nonRootUID  = 65532     // distroless :nonroot
)

// secretVars must come from env files or Secrets, never be written inline.
var secretVars = []string{"MMLITE_API_KEY", "MMLITE_API_TOKEN", "MMLITE_WEBHOOK_SECRET",
	"MMLITE_META_APP_SECRET", "MMLITE_WEBHOOK_VERIFY_TOKEN", "MMLITE_FAKEAPI_WEBHOOK_SECRET", "MMLITE_FAKEAPI_APP_SECRET"}

// listenVar is the variable that sets each role's listen address.
var listenVar = map[string]string{"api": "MMLITE_HTTP_ADDR", "worker": "MMLITE_METRICS_ADDR", "fakeapi": "MMLITE_FAKEAPI_ADDR"}

type obj = map[string]any

func asMap(v any) obj       { m, _ := v.(map[string]any); return m }
func asList(v any) []any    { l, _ := v.([]any); return l }
func asString(v any) string { s, _ := v.(string); return s }

func get(v any, path ...string) any {
	for _, p := range path {
		v = asMap(v)[p]
	}
	return v
}

func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), n == float64(int(n))
	case string:
		i, err := strconv.Atoi(n)
		return i, err == nil
	}
	return 0, false
}

// repoRoot is the parent of this test's directory (go test runs in it).
func repoRoot(t testing.TB) string {
	t.Helper()
	dir := ""
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dir = filepath.Dir(file)
	} else {
		wd, err := os.Getwd()
		require.NoError(t, err)
		dir = wd
	}
	root := filepath.Dir(dir)
	_, err := os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "repository root not found from %s", dir)
	return root
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// yamlDocs decodes every document of a (multi-document) YAML file.
func yamlDocs(t testing.TB, path string) []obj {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(readFile(t, path)))
	var docs []obj
	for {
		var d obj
		err := dec.Decode(&d)
		if err == io.EOF {
			return docs
		}
		require.NoError(t, err, "%s: invalid YAML", path)
		if d != nil {
			docs = append(docs, d)
		}
	}
}

func decodeYAML(t testing.TB, path string, v any) {
	t.Helper()
	require.NoError(t, yaml.Unmarshal(readFile(t, path), v), "%s", path)
}

// addrPort is the port of a listen address such as ":8080" or "0.0.0.0:9090".
func addrPort(t testing.TB, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	require.NoError(t, err, "listen address %q", addr)
	n, err := strconv.Atoi(p)
	require.NoError(t, err, "listen address %q", addr)
	return n
}

func urlPort(t testing.TB, raw string) (string, int, string) {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err, "URL %q", raw)
	n, err := strconv.Atoi(u.Port())
	require.NoError(t, err, "URL %q must name its port", raw)
	return u.Hostname(), n, u.Path
}

func parseDuration(t testing.TB, what, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	require.NoError(t, err, "%s: %q is not a duration", what, s)
	return d
}

// githubSlug is the anchor GitHub gives a Markdown heading.
func githubSlug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

func requireGo(t testing.TB) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH: cannot build mmlite to check the deployment against it")
	}
	return gobin
}

// buildBinary builds ./cmd/mmlite once per test binary run; TestMain removes
// it at the end of the run.
var build struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

func buildBinary(t testing.TB) string {
	t.Helper()
	gobin := requireGo(t)
	root := repoRoot(t)
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "mmlite-deploy-test-")
		if err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(dir, "mmlite")
		cmd := exec.Command(gobin, "build", "-o", build.path, "./cmd/mmlite")
		cmd.Dir = root
		build.out, build.err = cmd.CombinedOutput()
	})
	require.NoError(t, build.err, "go build ./cmd/mmlite:\n%s", build.out)
	return build.path
}

// TestMain removes the binary buildBinary built, once every test is done.
func TestMain(m *testing.M) {
	code := m.Run()
	if build.path != "" {
		_ = os.RemoveAll(filepath.Dir(build.path))
	}
	os.Exit(code)
}
