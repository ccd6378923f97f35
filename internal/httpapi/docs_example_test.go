package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// docsExample is the shell block of docs/http-api.md's "Example: a
// campaign and its recipients", as a reader copies it.
func docsExample(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/http-api.md")
	require.NoError(t, err)
	_, sec, ok := strings.Cut(string(b), "\n## Example: a campaign and its recipients\n")
	require.True(t, ok, "the example's section is gone")
	_, block, ok := strings.Cut(sec, "```sh\n")
	require.True(t, ok, "the example has no sh block")
	block, _, ok = strings.Cut(block, "\n```")
	require.True(t, ok, "the example's sh block never ends")
	return block
}

// The example works when copied: each request succeeds, and each answer
// is what the comment under it shows (the fields it shows; a status is
// abridged).
func TestDocs_CampaignExampleWorksWhenCopied(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed to run the example")
	}
	b := setup(t, nil)
	script := docsExample(t)
	var shown []string // the answers the comments show
	for _, l := range strings.Split(script, "\n") {
		if c, ok := strings.CutPrefix(strings.TrimSpace(l), "# {"); ok {
			shown = append(shown, "{"+c)
		}
	}
	script = strings.ReplaceAll(script, "http://127.0.0.1:8080", b.srv.URL)
	script = strings.ReplaceAll(script, "dev-token", token)
	// A request that fails fails the script, with the answer it got.
	cmd := exec.Command("bash", "-c", "set -eo pipefail\ncurl() { command curl --fail-with-body \"$@\"; }\n"+script)
	cmd.Dir = t.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "the example failed: %s\n%s", out, stderr.String())

	d := json.NewDecoder(bytes.NewReader(out))
	for i, want := range shown {
		var got, w map[string]any
		require.NoError(t, d.Decode(&got), "answer %d of the example: %s", i, out)
		abridged := strings.Replace(want, ", ...}", "}", 1)
		require.NoError(t, json.Unmarshal([]byte(abridged), &w), "the answer the docs show: %s", want)
		for k, v := range w {
			require.Equal(t, v, got[k], "answer %d, %q: the docs show %s, the api answers %v", i, k, want, got)
		}
		if abridged == want {
			require.Len(t, got, len(w), "answer %d: the docs show %s, the api answers %v", i, want, got)
		}
	}
	var extra any
	require.ErrorIs(t, d.Decode(&extra), io.EOF, "the example answers more than the docs show: %s", out)
}
