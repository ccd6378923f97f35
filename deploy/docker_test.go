package deploy_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type dockerfile struct {
	args  map[string]string
	lines []string // instructions, continuation lines joined
}

func loadDockerfile(t testing.TB) dockerfile {
	t.Helper()
	df := dockerfile{args: map[string]string{}}
	var cur strings.Builder
	for _, raw := range strings.Split(string(readFile(t, filepath.Join(repoRoot(t), "Dockerfile"))), "\n") {
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		ins := strings.Join(strings.Fields(cur.String()), " ")
		cur.Reset()
		if ins == "" {
			continue
		}
		df.lines = append(df.lines, ins)
		if k, v, ok := strings.Cut(strings.TrimPrefix(ins, "ARG "), "="); ok && strings.HasPrefix(ins, "ARG ") {
			df.args[k] = v
		}
	}
	return df
}

func (df dockerfile) expand(s string) string {
	return regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllStringFunc(s, func(m string) string {
		if v, ok := df.args[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

func (df dockerfile) all(instruction string) []string {
	var out []string
	for _, l := range df.lines {
		if strings.HasPrefix(l, instruction+" ") {
			out = append(out, strings.TrimPrefix(l, instruction+" "))
		}
	}
	return out
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	df := loadDockerfile(t)
	from := df.all("FROM")
	require.Len(t, from, 2, "a build stage and a runtime stage")
	build := df.expand(from[0])
	m := regexp.MustCompile(`golang:(\d+)\.(\d+)-bookworm AS build$`).FindStringSubmatch(build)
	require.NotNil(t, m, "build stage: golang:<go>-bookworm AS build, got %q", build)
	gomod := regexp.MustCompile(`(?m)^go (\d+)\.(\d+)`).FindStringSubmatch(string(readFile(t, filepath.Join(repoRoot(t), "go.mod"))))
	require.NotNil(t, gomod)
	assert.Equal(t, gomod[1:3], m[1:3], "the build image's Go follows go.mod's go directive")
	assert.Equal(t, "gcr.io/distroless/static-debian12:nonroot", from[1])

	runs := strings.Join(df.all("RUN"), "\n")
	assert.Contains(t, runs, "CGO_ENABLED=0")
	assert.Contains(t, runs, `go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" -o /out/mmlite ./cmd/mmlite`,
		"the image's `mmlite version` names the build args")
	assert.Contains(t, df.all("COPY"), "--from=build /out/mmlite "+imageBinary)
	assert.Equal(t, []string{fmt.Sprintf("%d:%d", nonRootUID, nonRootUID)}, df.all("USER"))
	assert.Equal(t, []string{`["` + imageBinary + `"]`}, df.all("ENTRYPOINT"))
	assert.Equal(t, []string{`["worker"]`}, df.all("CMD"))
	expose := strings.Fields(strings.Join(df.all("EXPOSE"), " "))
	assert.ElementsMatch(t, []string{"8080", "9090"}, expose)
	labels := strings.Join(df.all("LABEL"), " ")
	for _, l := range []string{"title", "source", "version", "revision"} {
		assert.Contains(t, labels, "org.opencontainers.image."+l+"=", "OCI label %s", l)
	}
}

// dockerignored reports whether .dockerignore leaves path out of the build
// context: the last matching pattern decides, and a pattern matching a
// parent directory matches everything under it.
func dockerignored(patterns []string, path string) bool {
	excluded := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		re := globRegexp(filepath.Clean(strings.TrimPrefix(strings.TrimPrefix(p, "!"), "/")))
		parts := strings.Split(path, "/")
		for i := 1; i <= len(parts); i++ {
			if re.MatchString(strings.Join(parts[:i], "/")) {
				excluded = !neg
				break
			}
		}
	}
	return excluded
}

func globRegexp(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; {
		case strings.HasPrefix(glob[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(glob[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// TestDockerContext checks that .dockerignore keeps every file the binary is
// built from, and leaves out what must not reach the image build.
func TestDockerContext(t *testing.T) {
	t.Parallel()
	gobin := requireGo(t)
	root := repoRoot(t)
	var patterns []string
	for _, l := range strings.Split(string(readFile(t, filepath.Join(root, ".dockerignore"))), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	cmd := exec.Command(gobin, "list", "-e", "-deps", "-f",
		`{{if .Module}}{{if eq .Module.Path "`+modulePath+`"}}{{.Dir}}|{{join .GoFiles ","}}|{{join .EmbedFiles ","}}|{{join .SFiles ","}}{{end}}{{end}}`,
		"./cmd/mmlite")
	cmd.Dir = root
	out, err := cmd.Output()
	require.NoError(t, err, "go list: %s", stderrOf(err))
	needed := []string{"go.mod", "go.sum"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "|")
		rel, err := filepath.Rel(root, parts[0])
		require.NoError(t, err)
		for _, list := range parts[1:] {
			for _, f := range strings.Split(list, ",") {
				if f != "" {
					needed = append(needed, filepath.ToSlash(filepath.Join(rel, f)))
				}
			}
		}
	}
	require.Greater(t, len(needed), 10, "go list found the binary's sources")
	for _, f := range needed {
		assert.False(t, dockerignored(patterns, f), ".dockerignore leaves out %s, which the build needs", f)
	}
	for _, f := range []string{".git/config", "deploy/compose/mmlite.env", "bin/mmlite", "docs/design.md", "e2e/fleet_test.go", "worker/worker_test.go"} {
		assert.True(t, dockerignored(patterns, f), ".dockerignore should leave out %s", f)
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	if err != nil {
		return err.Error()
	}
	return ""
}
