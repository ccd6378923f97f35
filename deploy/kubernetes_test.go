package deploy_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
