package yamllist_test

import (
	"testing"

	"github.com/mmlite/mmlite/internal/yamllist"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

type doc = struct {
	Things []yaml.Node `yaml:"things"`
}

func things(d *doc) []yaml.Node { return d.Things }

// The list's items come back with their lines; an empty file, one that is
// not YAML, has another key or lists nothing is refused in words.
func TestItems(t *testing.T) {
	t.Parallel()
	got, err := yamllist.Items([]byte("# two\nthings:\n  - a: 1\n  - b: 2\n"), "things", things)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, 3, got[0].Line)
	for body, want := range map[string]string{
		"":             `the file is empty: want a top-level "things:" list`,
		"# only\n":     `the file is empty: want a top-level "things:" list`,
		"things: [":    "invalid YAML: ",
		"other: 1\n":   "invalid YAML: yaml: unmarshal errors:\n  line 1: field other not found in type struct { Things []yaml.Node \"yaml:\\\"things\\\"\" }",
		"things: []\n": `no things: want a top-level "things:" list`,
		"things:\n":    `no things: want a top-level "things:" list`,
	} {
		_, err := yamllist.Items([]byte(body), "things", things)
		require.ErrorContains(t, err, want, "%q", body)
	}
}
