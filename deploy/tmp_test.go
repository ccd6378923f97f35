package deploy_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The api's root filesystem is read-only, and its console keeps an upload
// (a suppression import) over 32 MiB in a temporary file: both deployments
// give it a writable /tmp, or such an import fails ("open
// /tmp/multipart-...: read-only file system", found in review).
func TestDeploy_TheAPIHasAWritableTmp(t *testing.T) {
	t.Parallel()
	ms := loadManifests(t)
	var found bool
	for _, d := range ms.all("Deployment") {
		c := container(d)
		if containerRole(c) != "api" {
			continue
		}
		found = true
		var volume string
		for _, vm := range asList(c["volumeMounts"]) {
			if get(vm, "mountPath") == "/tmp" && get(vm, "readOnly") != true {
				volume = asString(get(vm, "name"))
			}
		}
		require.NotEmpty(t, volume, "%s: nothing writable is mounted at /tmp", d.file)
		var emptyDir bool
		for _, v := range asList(get(d.doc, "spec", "template", "spec", "volumes")) {
			if get(v, "name") == volume {
				_, emptyDir = asMap(v)["emptyDir"]
			}
		}
		require.True(t, emptyDir, "%s: /tmp is an emptyDir", d.file)
	}
	require.True(t, found, "no api Deployment")

	c := loadCompose(t)
	tmpfs := stringList(c.services["api"]["tmpfs"])
	require.True(t, slices.ContainsFunc(tmpfs, func(s string) bool { return s == "/tmp" || strings.HasPrefix(s, "/tmp:") }),
		"docker-compose.yml: the api has a tmpfs at /tmp, got %q", tmpfs)
}
