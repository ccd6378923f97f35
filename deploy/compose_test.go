package deploy_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var interpolation = regexp.MustCompile(`\$\{(\w+)(?::?-([^}]*))?\}`)

// interpolate resolves ${VAR:-default} to its default: the values the
// repository's own files give, whatever the environment says.
func interpolate(s string) string {
	return interpolation.ReplaceAllString(s, "$2")
}

type compose struct {
	root     string
	services map[string]obj
	vars     map[string]bool // names compose interpolates: not mmlite's
}

func loadCompose(t testing.TB) *compose {
	t.Helper()
	root := repoRoot(t)
	path := filepath.Join(root, "docker-compose.yml")
	var doc obj
	decodeYAML(t, path, &doc)
	c := &compose{root: root, services: map[string]obj{}, vars: map[string]bool{}}
	for name, s := range asMap(doc["services"]) {
		c.services[name] = asMap(s)
	}
	for _, m := range interpolation.FindAllStringSubmatch(string(readFile(t, path)), -1) {
		c.vars[m[1]] = true
	}
	return c
}

func (c *compose) envFiles(svc obj) []string {
	var files []string
	switch v := svc["env_file"].(type) {
	case string:
		files = append(files, v)
	case []any:
		for _, f := range v {
			if s, ok := f.(string); ok {
				files = append(files, s)
			} else {
				files = append(files, asString(get(f, "path")))
			}
		}
	}
	for i, f := range files {
		files[i] = filepath.Join(c.root, interpolate(f))
	}
	return files
}

func parseEnvFile(t testing.TB, path string) map[string]string {
	t.Helper()
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, path)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "%s:%d: want VAR=value", path, n)
		require.Regexp(t, `^[A-Z_][A-Z0-9_]*$`, k, "%s:%d", path, n)
		env[k] = v
	}
	return env
}

// inlineEnv is a service's environment: section.
func inlineEnv(svc obj) map[string]string {
	env := map[string]string{}
	switch v := svc["environment"].(type) {
	case map[string]any:
		for k, val := range v {
			env[k] = interpolate(fmt.Sprint(val))
		}
	case []any:
		for _, e := range v {
			k, val, _ := strings.Cut(asString(e), "=")
			env[k] = interpolate(val)
		}
	}
	return env
}

// env is what the container gets: its env files, then environment:.
func (c *compose) env(t testing.TB, svc obj) map[string]string {
	env := map[string]string{}
	for _, f := range c.envFiles(svc) {
		for k, v := range parseEnvFile(t, f) {
			env[k] = v
		}
	}
	for k, v := range inlineEnv(svc) {
		env[k] = v
	}
	return env
}

func stringList(v any) []string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func TestCompose(t *testing.T) {
	t.Parallel()
	c := loadCompose(t)
	for _, name := range []string{"redis", "api", "worker", "fakeapi", "prometheus", "grafana", "asynqmon"} {
		require.Contains(t, c.services, name, "docker-compose.yml: service %s", name)
	}

	t.Run("no secrets inline", func(t *testing.T) {
		for name, svc := range c.services {
			for k, v := range inlineEnv(svc) {
				assert.False(t, slices.Contains(secretVars, k), "service %s: %s must come from the env file, not environment:", name, k)
				assert.NotRegexp(t, `://[^/@\s]*:[^/@\s]+@`, v, "service %s: %s carries a password", name, k)
			}
		}
	})

	t.Run("mmlite services", func(t *testing.T) {
		for _, role := range []string{"api", "worker", "fakeapi"} {
			svc := c.services[role]
			assert.Equal(t, []string{role}, stringList(svc["command"]), "%s: command is the role", role)
			assert.Equal(t, ".", get(svc, "build", "context"), "%s: built from the repository's Dockerfile", role)
			assert.Equal(t, true, svc["read_only"], "%s: read_only", role)
			files := c.envFiles(svc)
			require.NotEmpty(t, files, "%s: env_file", role)
			for _, f := range files {
				assert.FileExists(t, f, "%s: env_file", role)
			}
			env := c.env(t, svc)
			addr, ok := inlineEnv(svc)[listenVar[role]]
			require.True(t, ok, "%s: %s must be set in environment:", role, listenVar[role])
			port := addrPort(t, addr)
			test := stringList(get(svc, "healthcheck", "test"))
			require.Len(t, test, 4, "%s: healthcheck [CMD, /mmlite, healthcheck, URL]", role)
			assert.Equal(t, []string{"CMD", imageBinary, "healthcheck"}, test[:3], "%s: the image has no shell: the binary checks itself", role)
			host, hport, _ := urlPort(t, test[3])
			assert.Equal(t, "127.0.0.1", host, "%s: health check the container itself", role)
			assert.Equal(t, port, hport, "%s: the health check must use the %s port", role, listenVar[role])
			if role != "fakeapi" {
				assert.Equal(t, "service_healthy", get(svc, "depends_on", "redis", "condition"), "%s waits for a healthy Redis", role)
				assert.Equal(t, "redis", mustURL(t, env["MMLITE_REDIS_URL"]).Hostname(), "%s: MMLITE_REDIS_URL names the redis service", role)
			}
		}
		api := c.services["api"]
		apiPort := addrPort(t, inlineEnv(api)[listenVar["api"]])
		assert.Contains(t, stringList(api["ports"]), fmt.Sprintf("%d:%d", apiPort, apiPort), "the api is published")

		w := c.services["worker"]
		_, published := w["ports"]
		assert.False(t, published, "worker ports are not published on the host (several replicas)")
		replicas, _ := asInt(get(w, "deploy", "replicas"))
		assert.GreaterOrEqual(t, replicas, 2, "worker deploy.replicas")
		env := c.env(t, w)
		grace := parseDuration(t, "worker stop_grace_period", asString(w["stop_grace_period"]))
		require.NotEmpty(t, env["MMLITE_SHUTDOWN_TIMEOUT"], "worker: MMLITE_SHUTDOWN_TIMEOUT explicit")
		require.NotEmpty(t, env["MMLITE_HTTP_TIMEOUT"], "worker: MMLITE_HTTP_TIMEOUT explicit")
		shutdown := parseDuration(t, "MMLITE_SHUTDOWN_TIMEOUT", env["MMLITE_SHUTDOWN_TIMEOUT"])
		httpTimeout := parseDuration(t, "MMLITE_HTTP_TIMEOUT", env["MMLITE_HTTP_TIMEOUT"])
		assert.Greater(t, grace, shutdown, "worker stop_grace_period > MMLITE_SHUTDOWN_TIMEOUT")
		assert.Greater(t, shutdown, httpTimeout, "MMLITE_SHUTDOWN_TIMEOUT > MMLITE_HTTP_TIMEOUT")

		f := c.services["fakeapi"]
		assert.Contains(t, stringList(f["profiles"]), "local", "the fake API only runs with the local profile")
		fenv := c.env(t, f)
		host, port, path := urlPort(t, fenv["MMLITE_FAKEAPI_WEBHOOK_URL"])
		assert.Equal(t, "api", host, "the fake API posts webhooks to the api service")
		assert.Equal(t, apiPort, port)
		assert.Equal(t, "/webhooks/whatsapp", path)
		aenv := c.env(t, api)
		assert.NotEmpty(t, aenv["MMLITE_WEBHOOK_SECRET"], "api: MMLITE_WEBHOOK_SECRET (env file)")
		assert.Equal(t, aenv["MMLITE_WEBHOOK_SECRET"], fenv["MMLITE_FAKEAPI_WEBHOOK_SECRET"],
			"the fake API must send the secret the api requires, or every webhook is refused")
		if base := env["MMLITE_API_BASE_URL"]; base != "" && mustURL(t, base).Hostname() == "fakeapi" {
			_, p, _ := urlPort(t, base)
			assert.Equal(t, addrPort(t, fenv["MMLITE_FAKEAPI_ADDR"]), p, "workers must reach the fake API's port")
		}
	})

	t.Run("redis", func(t *testing.T) {
		r := c.services["redis"]
		assert.True(t, strings.HasPrefix(asString(r["image"]), "redis:7"), "redis image")
		cmd := strings.Join(stringList(r["command"]), " ")
		assert.Contains(t, cmd, "--appendonly yes")
		assert.Contains(t, cmd, "--maxmemory-policy noeviction")
		assert.Equal(t, []string{"CMD", "redis-cli", "ping"}, stringList(get(r, "healthcheck", "test")))
		assert.NotEmpty(t, r["volumes"], "redis keeps its data in a volume")
	})

	t.Run("prometheus scrapes the api and every worker", func(t *testing.T) {
		p := c.services["prometheus"]
		assert.Contains(t, stringList(p["volumes"]), "./deploy/prometheus:/etc/prometheus:ro")
		var cfg struct {
			RuleFiles     []string `yaml:"rule_files"`
			ScrapeConfigs []struct {
				JobName       string `yaml:"job_name"`
				StaticConfigs []struct {
					Targets []string `yaml:"targets"`
				} `yaml:"static_configs"`
				DNSSDConfigs []struct {
					Names []string `yaml:"names"`
					Type  string   `yaml:"type"`
					Port  int      `yaml:"port"`
				} `yaml:"dns_sd_configs"`
			} `yaml:"scrape_configs"`
		}
		decodeYAML(t, filepath.Join(c.root, "deploy", "prometheus", "prometheus.yml"), &cfg)
		for _, f := range cfg.RuleFiles {
			assert.FileExists(t, filepath.Join(c.root, "deploy", "prometheus", f))
		}
		assert.Contains(t, cfg.RuleFiles, "alerts.yml")
		jobs := map[string]bool{}
		for _, sc := range cfg.ScrapeConfigs {
			jobs[sc.JobName] = true
			switch sc.JobName {
			case "mmlite-api":
				require.Len(t, sc.StaticConfigs, 1)
				apiPort := addrPort(t, inlineEnv(c.services["api"])[listenVar["api"]])
				assert.Equal(t, []string{fmt.Sprintf("api:%d", apiPort)}, sc.StaticConfigs[0].Targets)
			case "mmlite-worker":
				require.Len(t, sc.DNSSDConfigs, 1, "workers are found through DNS: every replica")
				d := sc.DNSSDConfigs[0]
				assert.Equal(t, []string{"worker"}, d.Names)
				assert.Equal(t, "A", d.Type)
				assert.Equal(t, addrPort(t, inlineEnv(c.services["worker"])[listenVar["worker"]]), d.Port)
			}
		}
		assert.True(t, jobs["mmlite-api"] && jobs["mmlite-worker"], "jobs mmlite-api and mmlite-worker")
	})

	t.Run("grafana provisioning", func(t *testing.T) {
		g := c.services["grafana"]
		mounts := map[string]string{}
		for _, v := range stringList(g["volumes"]) {
			parts := strings.Split(v, ":")
			if strings.HasPrefix(parts[0], "./") {
				mounts[parts[0]] = parts[1]
				assert.DirExists(t, filepath.Join(c.root, parts[0]))
			}
		}
		provisioning := mounts["./deploy/grafana/provisioning"]
		assert.Equal(t, "/etc/grafana/provisioning", provisioning)
		var providers struct {
			Providers []struct {
				Options struct {
					Path string `yaml:"path"`
				} `yaml:"options"`
			} `yaml:"providers"`
		}
		decodeYAML(t, filepath.Join(c.root, "deploy", "grafana", "provisioning", "dashboards", "mmlite.yml"), &providers)
		require.Len(t, providers.Providers, 1)
		assert.Equal(t, mounts["./deploy/grafana/dashboards"], providers.Providers[0].Options.Path,
			"the dashboard provider reads where compose mounts deploy/grafana/dashboards")
		var ds struct {
			Datasources []struct {
				Type string `yaml:"type"`
				URL  string `yaml:"url"`
			} `yaml:"datasources"`
		}
		decodeYAML(t, filepath.Join(c.root, "deploy", "grafana", "provisioning", "datasources", "prometheus.yml"), &ds)
		require.Len(t, ds.Datasources, 1)
		assert.Equal(t, "prometheus", ds.Datasources[0].Type)
		assert.Equal(t, "http://prometheus:9090", ds.Datasources[0].URL)
	})

	t.Run("asynqmon", func(t *testing.T) {
		a := c.services["asynqmon"]
		assert.Contains(t, stringList(a["command"]), "--redis-addr=redis:6379")
		for _, p := range stringList(a["ports"]) {
			assert.True(t, strings.HasPrefix(p, "127.0.0.1:"), "asynqmon can delete tasks: publish it on 127.0.0.1 only, got %s", p)
		}
	})
}

func mustURL(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err, "URL %q", raw)
	return u
}
