// Package deploy_test checks the deployment assets (Dockerfile, .dockerignore,
// docker-compose.yml, deploy/kubernetes, deploy/prometheus, deploy/grafana,
// the README's Operations section) against each other and against what the mmlite binary
// really does: the commands and MMLITE_* variables its --help lists, the probe
// paths it answers on each role's port, and the metrics it exports.
//
// The static checks need nothing; TestAgainstBinary builds ./cmd/mmlite and
// runs a worker, an api and the fake API on an in-process miniredis. The
// promtool, docker-compose and kubectl checks are in .ci/validate.
package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

const (
	modulePath  = "github.com/mmlite/mmlite"
	secretName  = "mmlite-secrets"
	runbookBase = "https://github.com/mmlite/mmlite/blob/main/README.md#"
	imageBinary = "/mmlite" // where the Dockerfile puts the binary
	nonRootUID  = 65532     // distroless :nonroot
)

// secretVars must come from env files or Secrets, never be written inline.
var secretVars = []string{"MMLITE_API_KEY", "MMLITE_API_TOKEN", "MMLITE_WEBHOOK_SECRET",
	"MMLITE_META_APP_SECRET", "MMLITE_WEBHOOK_VERIFY_TOKEN", "MMLITE_FAKEAPI_WEBHOOK_SECRET", "MMLITE_FAKEAPI_APP_SECRET"}

// listenVar is the variable that sets each role's listen address.
var listenVar = map[string]string{"api": "MMLITE_HTTP_ADDR", "worker": "MMLITE_METRICS_ADDR", "fakeapi": "MMLITE_FAKEAPI_ADDR"}

// ---------------------------------------------------------------- helpers

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

// ------------------------------------------------------------- Kubernetes

type kustomization struct {
	Namespace          string   `yaml:"namespace"`
	Resources          []string `yaml:"resources"`
	ConfigMapGenerator []struct {
		Name  string   `yaml:"name"`
		Files []string `yaml:"files"`
	} `yaml:"configMapGenerator"`
	Images []struct {
		Name    string `yaml:"name"`
		NewName string `yaml:"newName"`
		NewTag  string `yaml:"newTag"`
	} `yaml:"images"`
}

type k8sObject struct {
	file string
	doc  obj
}

func (o k8sObject) kind() string { return asString(o.doc["kind"]) }
func (o k8sObject) name() string { return asString(get(o.doc, "metadata", "name")) }

type senderEntry struct {
	ID        string `yaml:"id"`
	APIKeyEnv string `yaml:"api_key_env"`
}

type manifests struct {
	dir        string
	kust       kustomization
	objects    []k8sObject
	secretKeys map[string]bool
	senders    map[string][]senderEntry // generator file -> senders
}

func loadManifests(t testing.TB) *manifests {
	t.Helper()
	ms := &manifests{dir: filepath.Join(repoRoot(t), "deploy", "kubernetes"), secretKeys: map[string]bool{},
		senders: map[string][]senderEntry{}}
	decodeYAML(t, filepath.Join(ms.dir, "kustomization.yaml"), &ms.kust)
	for _, r := range ms.kust.Resources {
		for _, d := range yamlDocs(t, filepath.Join(ms.dir, r)) {
			ms.objects = append(ms.objects, k8sObject{file: r, doc: d})
		}
	}
	for _, d := range yamlDocs(t, filepath.Join(ms.dir, "secret.example.yaml")) {
		if d["kind"] == "Secret" && get(d, "metadata", "name") == secretName {
			for k := range asMap(d["stringData"]) {
				ms.secretKeys[k] = true
			}
			for k := range asMap(d["data"]) {
				ms.secretKeys[k] = true
			}
		}
	}
	for _, g := range ms.kust.ConfigMapGenerator {
		for _, f := range g.Files {
			var doc struct {
				Senders []senderEntry `yaml:"senders"`
			}
			decodeYAML(t, filepath.Join(ms.dir, f), &doc)
			ms.senders[f] = doc.Senders
		}
	}
	return ms
}

func (ms *manifests) all(kind string) []k8sObject {
	var out []k8sObject
	for _, o := range ms.objects {
		if o.kind() == kind {
			out = append(out, o)
		}
	}
	return out
}

func (ms *manifests) find(kind, name string) (k8sObject, bool) {
	for _, o := range ms.all(kind) {
		if o.name() == name {
			return o, true
		}
	}
	return k8sObject{}, false
}

// container is the first container of a Deployment (mmlite pods have one).
func container(d k8sObject) obj {
	return asMap(asList(get(d.doc, "spec", "template", "spec", "containers"))[0])
}

func containerRole(c obj) string {
	args := asList(c["args"])
	if len(args) == 0 {
		args = asList(c["command"])
	}
	if len(args) == 0 {
		return "worker" // the image's CMD
	}
	return asString(args[0])
}

type envVar struct {
	name, value, secretName, secretKey string
	fromSecret, optional               bool
}

func containerEnv(c obj) []envVar {
	var out []envVar
	for _, e := range asList(c["env"]) {
		m := asMap(e)
		v := envVar{name: asString(m["name"]), value: asString(m["value"])}
		if ref := asMap(get(m, "valueFrom", "secretKeyRef")); ref != nil {
			v.fromSecret, v.secretName, v.secretKey = true, asString(ref["name"]), asString(ref["key"])
			v.optional, _ = ref["optional"].(bool)
		}
		out = append(out, v)
	}
	return out
}

func envValue(env []envVar, name string) (string, bool) {
	for _, e := range env {
		if e.name == name && !e.fromSecret {
			return e.value, true
		}
	}
	return "", false
}

// portNumber resolves a probe or Service port (number or name) against the
// container's ports.
func portNumber(c obj, p any) (int, bool) {
	if n, ok := asInt(p); ok {
		return n, true
	}
	for _, cp := range asList(c["ports"]) {
		if get(cp, "name") == p {
			return asInt(get(cp, "containerPort"))
		}
	}
	return 0, false
}

type probe struct {
	kind, path string
	port       int
}

func containerProbes(t testing.TB, c obj) []probe {
	t.Helper()
	var out []probe
	for _, kind := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
		p := asMap(c[kind])
		if p == nil {
			continue
		}
		hg := asMap(p["httpGet"])
		require.NotNil(t, hg, "%s must be an httpGet probe", kind)
		port, ok := portNumber(c, hg["port"])
		require.True(t, ok, "%s port %v is not a container port", kind, hg["port"])
		out = append(out, probe{kind: kind, path: asString(hg["path"]), port: port})
	}
	return out
}

func labelsMatch(selector, labels obj) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func TestKubernetesManifests(t *testing.T) {
	t.Parallel()
	ms := loadManifests(t)

	t.Run("every YAML file is accounted for", func(t *testing.T) {
		known := map[string]string{"kustomization.yaml": "kustomization", "secret.example.yaml": "example"}
		for _, r := range ms.kust.Resources {
			known[r] = "resource"
		}
		for _, g := range ms.kust.ConfigMapGenerator {
			for _, f := range g.Files {
				known[f] = "generated ConfigMap"
			}
		}
		assert.NotContains(t, ms.kust.Resources, "secret.example.yaml", "the example Secret must not be applied")
		err := filepath.WalkDir(ms.dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || (!strings.HasSuffix(p, ".yaml") && !strings.HasSuffix(p, ".yml")) {
				return err
			}
			rel, _ := filepath.Rel(ms.dir, p)
			assert.Contains(t, known, filepath.ToSlash(rel), "%s is neither a kustomization resource, a generator file nor the Secret example", rel)
			return nil
		})
		require.NoError(t, err)
	})

	t.Run("kinds and required fields", func(t *testing.T) {
		allowed := map[string]string{"Namespace": "v1", "ServiceAccount": "v1", "Service": "v1",
			"Deployment": "apps/v1", "PodDisruptionBudget": "policy/v1",
			"ServiceMonitor": "monitoring.coreos.com/v1", "ScaledObject": "keda.sh/v1alpha1"}
		seen := map[string]bool{}
		for _, o := range ms.objects {
			want, ok := allowed[o.kind()]
			if assert.True(t, ok, "%s: unexpected kind %q", o.file, o.kind()) {
				assert.Equal(t, want, o.doc["apiVersion"], "%s: %s apiVersion", o.file, o.kind())
			}
			assert.NotEmpty(t, o.name(), "%s: %s without metadata.name", o.file, o.kind())
			key := o.kind() + "/" + o.name()
			assert.False(t, seen[key], "%s declared twice", key)
			seen[key] = true
		}
		for _, want := range []string{"Namespace/" + ms.kust.Namespace, "Deployment/mmlite-api", "Deployment/mmlite-worker",
			"Service/mmlite-api", "Service/mmlite-worker", "PodDisruptionBudget/mmlite-api", "PodDisruptionBudget/mmlite-worker",
			"ServiceMonitor/mmlite-api", "ServiceMonitor/mmlite-worker", "ScaledObject/mmlite-worker"} {
			assert.True(t, seen[want], "missing %s", want)
		}
	})

	images := map[string]bool{}
	for _, im := range ms.kust.Images {
		images[im.Name] = true
		assert.NotEmpty(t, im.NewName, "kustomization images[%s].newName", im.Name)
		assert.NotEmpty(t, im.NewTag, "kustomization images[%s].newTag: pin a tag", im.Name)
		assert.NotEqual(t, "latest", im.NewTag, "kustomization images[%s]: pin a tag, not latest", im.Name)
	}

	for _, role := range []string{"api", "worker"} {
		t.Run("Deployment mmlite-"+role, func(t *testing.T) {
			d, ok := ms.find("Deployment", "mmlite-"+role)
			require.True(t, ok)
			spec := asMap(d.doc["spec"])
			pod := asMap(get(spec, "template", "spec"))
			tmplLabels := asMap(get(spec, "template", "metadata", "labels"))
			assert.True(t, labelsMatch(asMap(get(spec, "selector", "matchLabels")), tmplLabels), "selector must match the pod template labels")
			require.Len(t, asList(pod["containers"]), 1)
			c := container(d)
			assert.Equal(t, role, containerRole(c), "the container's first argument is the role")
			assert.True(t, images[asString(c["image"])], "image %q must be set by the kustomization's images", c["image"])
			assert.Equal(t, "mmlite", pod["serviceAccountName"])
			assert.Equal(t, false, pod["automountServiceAccountToken"], "mmlite needs no Kubernetes API token")

			// Security: non-root 65532 (distroless :nonroot), read-only root, nothing to escalate.
			psc, csc := asMap(pod["securityContext"]), asMap(c["securityContext"])
			either := func(k string) any {
				if v, ok := csc[k]; ok {
					return v
				}
				return psc[k]
			}
			assert.Equal(t, true, either("runAsNonRoot"), "runAsNonRoot")
			uid, _ := asInt(either("runAsUser"))
			assert.Equal(t, nonRootUID, uid, "runAsUser")
			assert.Equal(t, false, csc["allowPrivilegeEscalation"], "allowPrivilegeEscalation")
			assert.Equal(t, true, csc["readOnlyRootFilesystem"], "readOnlyRootFilesystem")
			assert.Contains(t, asList(get(csc, "capabilities", "drop")), "ALL", "capabilities.drop")
			assert.Equal(t, "RuntimeDefault", get(either("seccompProfile"), "type"), "seccompProfile")

			// Resources.
			res := asMap(c["resources"])
			for _, k := range []string{"requests.cpu", "requests.memory", "limits.memory"} {
				parts := strings.Split(k, ".")
				assert.NotEmpty(t, get(res, parts...), "resources.%s", k)
			}

			// Ports and probes: liveness /healthz and readiness /readyz on the role's listen port.
			env := containerEnv(c)
			addr, ok := envValue(env, listenVar[role])
			require.True(t, ok, "%s must be set explicitly", listenVar[role])
			port := addrPort(t, addr)
			cport, ok := portNumber(c, asMap(asList(c["ports"])[0])["name"])
			require.True(t, ok)
			assert.Equal(t, port, cport, "containerPort must be the %s port", listenVar[role])
			probes := map[string]probe{}
			for _, p := range containerProbes(t, c) {
				probes[p.kind] = p
				assert.Equal(t, port, p.port, "%s must probe the %s port", p.kind, listenVar[role])
			}
			assert.Equal(t, "/healthz", probes["livenessProbe"].path, "livenessProbe")
			assert.Equal(t, "/readyz", probes["readinessProbe"].path, "readinessProbe")

			// Secrets only by reference, to keys the example Secret lists.
			for _, e := range env {
				if slices.Contains(secretVars, e.name) || e.name == "MMLITE_REDIS_URL" {
					assert.True(t, e.fromSecret, "%s must come from a secretKeyRef, not a literal", e.name)
				}
				if e.fromSecret {
					assert.Equal(t, secretName, e.secretName, "%s: secretKeyRef name", e.name)
					assert.True(t, ms.secretKeys[e.secretKey], "%s: key %q is missing from secret.example.yaml", e.name, e.secretKey)
				}
			}

			grace, ok := asInt(pod["terminationGracePeriodSeconds"])
			require.True(t, ok, "terminationGracePeriodSeconds must be set")
			if sleep, ok := asInt(get(c, "lifecycle", "preStop", "sleep", "seconds")); ok {
				assert.Less(t, sleep, grace, "the preStop sleep must leave time to shut down")
			}
			if role == "worker" {
				httpTimeout, ok1 := envValue(env, "MMLITE_HTTP_TIMEOUT")
				shutdown, ok2 := envValue(env, "MMLITE_SHUTDOWN_TIMEOUT")
				require.True(t, ok1 && ok2, "the worker sets MMLITE_HTTP_TIMEOUT and MMLITE_SHUTDOWN_TIMEOUT explicitly")
				h, s := parseDuration(t, "MMLITE_HTTP_TIMEOUT", httpTimeout), parseDuration(t, "MMLITE_SHUTDOWN_TIMEOUT", shutdown)
				assert.Greater(t, time.Duration(grace)*time.Second, s, "terminationGracePeriodSeconds > MMLITE_SHUTDOWN_TIMEOUT")
				assert.Greater(t, s, h, "MMLITE_SHUTDOWN_TIMEOUT > MMLITE_HTTP_TIMEOUT")
				_, hasReplicas := spec["replicas"]
				assert.False(t, hasReplicas, "the worker Deployment leaves replicas to the KEDA ScaledObject")
				checkSendersMount(t, ms, pod, c, env)
			} else {
				n, _ := asInt(spec["replicas"])
				assert.GreaterOrEqual(t, n, 2, "the api runs at least two replicas")
				// A cancel waits for in-flight sends: above the workers' HTTP timeout.
				w, _ := ms.find("Deployment", "mmlite-worker")
				wh, _ := envValue(containerEnv(container(w)), "MMLITE_HTTP_TIMEOUT")
				if cw, ok := envValue(env, "MMLITE_CANCEL_WAIT"); ok && wh != "" {
					assert.Greater(t, parseDuration(t, "MMLITE_CANCEL_WAIT", cw), parseDuration(t, "MMLITE_HTTP_TIMEOUT", wh),
						"api MMLITE_CANCEL_WAIT > worker MMLITE_HTTP_TIMEOUT")
				}
			}
		})
	}

	t.Run("Services, PodDisruptionBudgets and ServiceMonitors select the pods", func(t *testing.T) {
		deployments := ms.all("Deployment")
		podOf := func(selector obj) (k8sObject, bool) {
			for _, d := range deployments {
				if labelsMatch(selector, asMap(get(d.doc, "spec", "template", "metadata", "labels"))) {
					return d, true
				}
			}
			return k8sObject{}, false
		}
		for _, s := range ms.all("Service") {
			d, ok := podOf(asMap(get(s.doc, "spec", "selector")))
			if !assert.True(t, ok, "Service %s selects no Deployment", s.name()) {
				continue
			}
			for _, p := range asList(get(s.doc, "spec", "ports")) {
				_, ok := portNumber(container(d), get(p, "targetPort"))
				assert.True(t, ok, "Service %s: targetPort %v is not a port of %s", s.name(), get(p, "targetPort"), d.name())
				assert.NotEmpty(t, get(p, "name"), "Service %s: ports need names (ServiceMonitor)", s.name())
			}
			if s.name() == "mmlite-worker" {
				assert.Equal(t, "None", get(s.doc, "spec", "clusterIP"), "the worker Service is headless")
			}
		}
		for _, p := range ms.all("PodDisruptionBudget") {
			_, ok := podOf(asMap(get(p.doc, "spec", "selector", "matchLabels")))
			assert.True(t, ok, "PodDisruptionBudget %s selects no Deployment", p.name())
		}
		jobs := map[string]bool{}
		for _, sm := range ms.all("ServiceMonitor") {
			sel := asMap(get(sm.doc, "spec", "selector", "matchLabels"))
			matched := 0
			for _, s := range ms.all("Service") {
				if !labelsMatch(sel, asMap(get(s.doc, "metadata", "labels"))) {
					continue
				}
				matched++
				jobs[s.name()] = true // the Prometheus Operator's default job label
				for _, ep := range asList(get(sm.doc, "spec", "endpoints")) {
					found := false
					for _, p := range asList(get(s.doc, "spec", "ports")) {
						found = found || get(p, "name") == get(ep, "port")
					}
					assert.True(t, found, "ServiceMonitor %s: Service %s has no port %v", sm.name(), s.name(), get(ep, "port"))
					assert.Equal(t, "/metrics", get(ep, "path"), "ServiceMonitor %s path", sm.name())
				}
			}
			assert.Equal(t, 1, matched, "ServiceMonitor %s must select exactly one Service", sm.name())
		}
		assert.True(t, jobs["mmlite-api"] && jobs["mmlite-worker"], "the alerts rely on jobs mmlite-api and mmlite-worker, got %v", jobs)
	})

	t.Run("KEDA ScaledObject", func(t *testing.T) {
		so, ok := ms.find("ScaledObject", "mmlite-worker")
		require.True(t, ok)
		spec := asMap(so.doc["spec"])
		assert.Equal(t, "mmlite-worker", get(spec, "scaleTargetRef", "name"))
		minR, ok1 := asInt(spec["minReplicaCount"])
		maxR, ok2 := asInt(spec["maxReplicaCount"])
		require.True(t, ok1 && ok2, "minReplicaCount and maxReplicaCount must be set")
		assert.GreaterOrEqual(t, minR, 2, "minReplicaCount")
		assert.GreaterOrEqual(t, maxR, minR, "maxReplicaCount")
		assert.LessOrEqual(t, maxR, 20, "maxReplicaCount is capped: more workers cannot raise a sender's rate")
		q := kedaQuery(t, ms)
		assert.Contains(t, q, `queue="mmlite"`)
		assert.NotContains(t, q, "scheduled", "paced future jobs are not work that more workers could do")
		if ms.kust.Namespace != "" {
			assert.Contains(t, q, `namespace="`+ms.kust.Namespace+`"`, "the query must follow the kustomization's namespace")
		}
	})
}

func kedaQuery(t testing.TB, ms *manifests) string {
	t.Helper()
	so, ok := ms.find("ScaledObject", "mmlite-worker")
	require.True(t, ok)
	for _, tr := range asList(get(so.doc, "spec", "triggers")) {
		if get(tr, "type") == "prometheus" {
			q := asString(get(tr, "metadata", "query"))
			require.NotEmpty(t, q)
			_, err := strconv.ParseFloat(asString(get(tr, "metadata", "threshold")), 64)
			require.NoError(t, err, "the prometheus trigger needs a numeric threshold (a string)")
			return q
		}
	}
	require.Fail(t, "the ScaledObject has no prometheus trigger")
	return ""
}

// checkSendersMount: MMLITE_SENDERS_FILE is the generated ConfigMap mounted
// read-only, and every api_key_env it names is filled from the Secret.
func checkSendersMount(t *testing.T, ms *manifests, pod, c obj, env []envVar) {
	file, ok := envValue(env, "MMLITE_SENDERS_FILE")
	require.True(t, ok, "the worker sets MMLITE_SENDERS_FILE")
	dir, base := filepath.Dir(file), filepath.Base(file)
	var volume string
	for _, vm := range asList(c["volumeMounts"]) {
		if get(vm, "mountPath") == dir {
			volume = asString(get(vm, "name"))
			assert.Equal(t, true, get(vm, "readOnly"), "the senders volume is mounted read-only")
		}
	}
	require.NotEmpty(t, volume, "nothing is mounted at %s", dir)
	var cm string
	for _, v := range asList(pod["volumes"]) {
		if get(v, "name") == volume {
			cm = asString(get(v, "configMap", "name"))
		}
	}
	var senders []senderEntry
	for _, g := range ms.kust.ConfigMapGenerator {
		if g.Name == cm {
			for _, f := range g.Files {
				if filepath.Base(f) == base {
					senders = ms.senders[f]
				}
			}
		}
	}
	require.NotEmpty(t, senders, "%s: volume %s must be the generated ConfigMap holding %s", file, volume, base)
	for _, s := range senders {
		require.NotEmpty(t, s.APIKeyEnv, "sender %s: the key comes from api_key_env", s.ID)
		found := false
		for _, e := range env {
			if e.name == s.APIKeyEnv {
				found = true
				assert.True(t, e.fromSecret, "%s must come from the Secret", e.name)
			}
		}
		assert.True(t, found, "sender %s: the worker does not set %s", s.ID, s.APIKeyEnv)
	}
}

// ----------------------------------------------------------------- compose

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

// -------------------------------------------------------------- Dockerfile

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
	assert.Contains(t, runs, `go build -trimpath -ldflags="-s -w" -o /out/mmlite ./cmd/mmlite`)
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

// ----------------------------------------------------- Prometheus and Grafana

type alertRule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func loadAlerts(t testing.TB) []alertRule {
	t.Helper()
	var f struct {
		Groups []struct {
			Name  string      `yaml:"name"`
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	decodeYAML(t, filepath.Join(repoRoot(t), "deploy", "prometheus", "alerts.yml"), &f)
	var rules []alertRule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	return rules
}

// operationsAnchors returns the anchors of the README's headings and the
// text of its Operations section.
func operationsAnchors(t testing.TB) (map[string]bool, string) {
	t.Helper()
	anchors := map[string]bool{}
	var ops []string
	inCode, inOps := false, false
	for _, l := range strings.Split(string(readFile(t, filepath.Join(repoRoot(t), "README.md"))), "\n") {
		if strings.HasPrefix(l, "```") {
			inCode = !inCode
		}
		if m := regexp.MustCompile(`^(#+) (.+)$`).FindStringSubmatch(l); m != nil && !inCode {
			anchors[githubSlug(m[2])] = true
			if len(m[1]) <= 2 {
				inOps = m[2] == "Operations"
			}
		}
		if inOps {
			ops = append(ops, l)
		}
	}
	require.NotEmpty(t, ops, "README.md has no ## Operations section")
	return anchors, strings.Join(ops, "\n")
}

func TestAlertRules(t *testing.T) {
	t.Parallel()
	rules := loadAlerts(t)
	anchors, _ := operationsAnchors(t)
	names := map[string]bool{}
	for _, r := range rules {
		if !assert.NotEmpty(t, r.Alert, "only alerting rules in alerts.yml (record %q)", r.Record) {
			continue
		}
		assert.False(t, names[r.Alert], "%s declared twice", r.Alert)
		names[r.Alert] = true
		assert.NotEmpty(t, r.Expr, r.Alert)
		assert.Contains(t, []string{"critical", "warning", "info"}, r.Labels["severity"], "%s: severity", r.Alert)
		for _, a := range []string{"summary", "description", "runbook"} {
			assert.NotEmpty(t, r.Annotations[a], "%s: annotation %s", r.Alert, a)
		}
		rb := r.Annotations["runbook"]
		if assert.True(t, strings.HasPrefix(rb, runbookBase), "%s: runbook must point into README.md, got %s", r.Alert, rb) {
			assert.True(t, anchors[strings.TrimPrefix(rb, runbookBase)], "%s: runbook anchor %q is not a heading of README.md", r.Alert, strings.TrimPrefix(rb, runbookBase))
		}
	}
	for _, want := range []string{"MMLiteNoWorkerUp", "MMLiteSendFailureRatioHigh", "MMLiteSenderThrottled", "MMLiteCampaignAutoPaused",
		"MMLiteSendBacklogStalled", "MMLiteWebhookAuthFailures", "MMLiteResultsQueueNotConsumed", "MMLiteRedisDown",
		"MMLiteFallbackShareHigh", "MMLiteUnknownOutcomes"} {
		assert.True(t, names[want], "alerts.yml: missing %s", want)
	}

	// Every alert has unit tests where it fires and where it does not.
	var tests struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	decodeYAML(t, filepath.Join(repoRoot(t), "deploy", "prometheus", "alerts_test.yml"), &tests)
	assert.Equal(t, []string{"alerts.yml"}, tests.RuleFiles)
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range tests.Tests {
		for _, a := range tc.AlertRuleTest {
			assert.True(t, names[a.Alertname], "alerts_test.yml tests unknown alert %s", a.Alertname)
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	for n := range names {
		assert.True(t, fires[n], "alerts_test.yml: no case where %s fires", n)
		assert.True(t, quiet[n], "alerts_test.yml: no case where %s stays quiet", n)
	}
}

type query struct {
	source, expr, legend string
}

func loadDashboard(t testing.TB) obj {
	t.Helper()
	var d obj
	require.NoError(t, json.Unmarshal(readFile(t, filepath.Join(repoRoot(t), "deploy", "grafana", "dashboards", "mmlite.json")), &d))
	return d
}

func dashboardPanels(d obj) []obj {
	var out []obj
	var walk func(ps []any)
	walk = func(ps []any) {
		for _, p := range ps {
			out = append(out, asMap(p))
			walk(asList(asMap(p)["panels"]))
		}
	}
	walk(asList(d["panels"]))
	return out
}

func dashboardQueries(d obj) []query {
	var qs []query
	for _, p := range dashboardPanels(d) {
		for _, tg := range asList(p["targets"]) {
			qs = append(qs, query{source: "dashboard panel " + asString(p["title"]), expr: asString(get(tg, "expr")),
				legend: asString(get(tg, "legendFormat"))})
		}
	}
	for _, v := range asList(get(d, "templating", "list")) {
		if get(v, "type") == "query" {
			q := get(v, "query")
			if s, ok := q.(string); ok {
				qs = append(qs, query{source: "dashboard variable " + asString(get(v, "name")), expr: s})
			} else {
				qs = append(qs, query{source: "dashboard variable " + asString(get(v, "name")), expr: asString(get(q, "query"))})
			}
		}
	}
	return qs
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	d := loadDashboard(t)
	sv, _ := asInt(d["schemaVersion"])
	assert.GreaterOrEqual(t, sv, 36, "schemaVersion")
	assert.NotEmpty(t, d["uid"])
	assert.NotEmpty(t, d["title"])

	vars := map[string]obj{}
	for _, v := range asList(get(d, "templating", "list")) {
		vars[asString(get(v, "name"))] = asMap(v)
	}
	require.Contains(t, vars, "sender")
	q := get(vars["sender"], "query")
	if s, ok := q.(string); !ok || s == "" {
		q = get(q, "query")
	}
	assert.Equal(t, "label_values(mmlite_messages_total, sender)", q)
	require.Contains(t, vars, "datasource")

	ids := map[int]bool{}
	var exprs strings.Builder
	for _, p := range dashboardPanels(d) {
		id, _ := asInt(p["id"])
		assert.False(t, ids[id], "panel id %d used twice", id)
		ids[id] = true
		x, _ := asInt(get(p, "gridPos", "x"))
		w, _ := asInt(get(p, "gridPos", "w"))
		assert.LessOrEqual(t, x+w, 24, "panel %q is wider than the grid", p["title"])
		if p["type"] == "row" {
			continue
		}
		assert.NotEmpty(t, p["title"])
		targets := asList(p["targets"])
		assert.NotEmpty(t, targets, "panel %q has no query", p["title"])
		for _, tg := range targets {
			assert.NotEmpty(t, get(tg, "expr"), "panel %q: empty query", p["title"])
			assert.Equal(t, "${datasource}", get(tg, "datasource", "uid"), "panel %q: use the $datasource variable", p["title"])
			exprs.WriteString(asString(get(tg, "expr")) + "\n")
		}
	}
	for _, m := range []string{"mmlite_messages_total", "mmlite_api_requests_total", "mmlite_api_request_duration_seconds_bucket",
		"mmlite_throttled_total", "mmlite_sender_rate", "mmlite_ratelimit_wait_seconds_bucket", "asynq_queue_tasks",
		`asynq_queue_latency_seconds{queue="mmlite-results"}`, "mmlite_webhook_events_total", "mmlite_clicks_total",
		"mmlite_fallback_total", "mmlite_campaigns_paused_total", "mmlite_bad_jobs_total", "mmlite_rescheduled_total"} {
		assert.Contains(t, exprs.String(), m, "the dashboard shows %s", m)
	}
	for _, q := range dashboardQueries(d) {
		for _, m := range regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`).FindAllStringSubmatch(q.legend, -1) {
			assert.Contains(t, groupingLabels(q.expr), m[1], "%s: legend {{%s}} is not a label the query keeps", q.source, m[1])
		}
	}
}

// The README's Operations section covers what operators need.
func TestOperationsDoc(t *testing.T) {
	t.Parallel()
	_, text := operationsAnchors(t)
	for _, s := range []string{"docker build", "docker-compose", "--profile local", "kubectl apply -k", secretName,
		"MMLITE_SHUTDOWN_TIMEOUT", "maxReplicaCount", "noeviction", "Sentinel"} {
		assert.Contains(t, text, s)
	}
}

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

func requireGo(t testing.TB) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH: cannot build mmlite to check the deployment against it")
	}
	return gobin
}

// buildBinary builds ./cmd/mmlite once per test binary run.
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
	t.Cleanup(func() { _ = os.RemoveAll(filepath.Dir(build.path)) })
	return build.path
}

type cli struct {
	commands map[string]bool            // top-level commands
	env      map[string]map[string]bool // MMLITE_* -> commands that read it
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

var helpEnv = regexp.MustCompile(`\$(MMLITE_[A-Z0-9_]+)`)

func readCLI(t testing.TB, bin string) cli {
	t.Helper()
	c := cli{commands: map[string]bool{}, env: map[string]map[string]bool{}}
	add := func(help, cmd string) {
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

// syncBuffer collects a process's output; exec writes it from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type proc struct {
	name string
	base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	out  *syncBuffer
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

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// startProcess runs `mmlite args...` with exactly env (plus PATH and HOME),
// waits until GET base/healthz answers, and stops it with SIGTERM at the
// end of the test, checking that it exits 0 within stopWithin.
func startProcess(t *testing.T, bin, name, addr string, env map[string]string, stopWithin time.Duration, readyPath string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, base: "http://" + addr, cmd: exec.Command(bin, args...), out: &syncBuffer{}, done: make(chan struct{})}
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
	waddr := freeAddr(t)
	worker := startProcess(t, bin, "k8s worker", waddr, wenv, wshutdown+5*time.Second, "/healthz", "worker", "--metrics-addr", waddr)

	ad, _ := ms.find("Deployment", "mmlite-api")
	ac := container(ad)
	aaddr := freeAddr(t)
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
	cwaddr := freeAddr(t)
	cshutdown := parseDuration(t, "MMLITE_SHUTDOWN_TIMEOUT", cwenv["MMLITE_SHUTDOWN_TIMEOUT"])
	cworker := startProcess(t, bin, "compose worker", cwaddr, cwenv, cshutdown+5*time.Second, "/healthz", "worker", "--metrics-addr", cwaddr)
	caenv := co.env(t, co.services["api"])
	caenv["MMLITE_REDIS_URL"] = redisURL
	caaddr := freeAddr(t)
	capi := startProcess(t, bin, "compose api", caaddr, caenv, 30*time.Second, "/healthz", "api", "--http-addr", caaddr)
	cfenv := co.env(t, co.services["fakeapi"])
	cfaddr := freeAddr(t)
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
		err := exec.Command(bin, "healthcheck", "--timeout", "1s", "http://"+freeAddr(t)+"/healthz").Run()
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
			assert.True(t, exp.names[m[1]] || exp.names[family(m[1])], "the README's Operations section names %s, which nothing exports", m[1])
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
