package outbound_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An error in a destination's YAML named two lines, the destination's
// and yaml's own ("line 2: destinations[0]: line 4: mapping key "url"
// already defined at line 3"): it names one, the exact line, then the
// destination and the fault, after the file's name as every error of the
// file does. A secret written in the file names its key's line, as an
// unknown key does.
func TestLoad_DestinationsFileErrorNamesItsLineOnce(t *testing.T) {
	t.Parallel()
	const head = "destinations:\n  - name: a\n    url: https://x.example.com\n"
	for yml, want := range map[string]string{
		head + "    url: https://y.example.com\n    secret_env: S\n":                                                  `line 4: destinations[0]: mapping key "url" already defined at line 3`,
		head + "    secret_env: S\n    fields: messages\n":                                                            `line 5: destinations[0]: fields: want a list, got "messages"`,
		head + "    secret_env: S\n    fields: [messages, [x]]\n":                                                     `line 5: destinations[0]: fields: want a string, got a list`,
		head + "    secret_env: S\n  - name: [b]\n    url: https://y.example.com\n    secret_env: S\n    fields: x\n": `line 5: destinations[1]: name: want a string, got a list; line 8: destinations[1]: fields: want a list, got "x"`,
		head + "    uri: https://x.example.com\n":                                                                     `line 4: destinations[0]: unknown field "uri" (want name, url, secret_env, secret_file, fields)`,
		head + "    secret_env: S\n    secret: s3cr3t\n":                                                              `line 5: destinations[0]: secret must not be written in the file: use secret_env or secret_file`,
		"destinations:\n  - just a string\n":                                                                          `line 2: destinations[0]: want a mapping (name, url, secret_env, fields)`,
		"destinations: 5\n":                                                                                           `line 1: destinations: want a list, got "5"`,
		"destination:\n  - name: a\n":                                                                                 `line 1: unknown field "destination": want a top-level "destinations:" list`,
		"destinations:\n  - name: a\n  - name: b\ndestinations: []\n":                                                 `line 4: mapping key "destinations" already defined at line 1`,
	} {
		p := filepath.Join(t.TempDir(), "destinations.yaml")
		require.NoError(t, os.WriteFile(p, []byte(yml), 0o600))
		_, err := outbound.Load(outbound.Sources{File: p, Getenv: func(string) string { return "s" }})
		assert.EqualError(t, err, p+": "+want, "%q", yml)
	}
}
