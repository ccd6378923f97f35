package yamllist_test

import (
	"errors"
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
		"other: 1\n":   `line 1: unknown field "other": want a top-level "things:" list`,
		"things: 5\n":  `line 1: things: want a list, got "5"`,
		"things: []\n": `no things: want a top-level "things:" list`,
		"things:\n":    `no things: want a top-level "things:" list`,
	} {
		_, err := yamllist.Items([]byte(body), "things", things)
		require.ErrorContains(t, err, want, "%q", body)
	}
}

// yaml.v3 names the line where the enclosing list or map began, not the
// one it could not read: a misindented seventh line of a destinations
// file was reported as "line 1" (found in review). The error names the
// first line the file no longer parses with, when the file up to it fails
// the same way; otherwise yaml's own line stands.
func TestItems_SyntaxErrorNamesTheLineItCannotRead(t *testing.T) {
	t.Parallel()
	head := "things:\n  - name: inbox\n    url: https://a.example.com/h\n    secret_env: A\n  - name: crm\n"
	for body, want := range map[string]string{
		head + "    url: https://b.example.com/h\n   secret_env: B\n": "invalid YAML: line 7: did not find expected '-' indicator",
		head + "\turl: x\n":                          "invalid YAML: line 6: found a tab character that violates indentation",
		head + "    fields: [messages\n    url: x\n": "invalid YAML: line 6: did not find expected ',' or ']'",
		"things:\n  - a: 1\n b: 2\n":                 "invalid YAML: line 3: did not find expected key",
		// A flow list over several lines parses only once closed: the
		// prefix that fails first fails otherwise, so yaml's line stands.
		"things:\n  - a: [1,\n      2]\n  - b: 2\n c: 3\n": "invalid YAML: yaml: line",
	} {
		_, err := yamllist.Items([]byte(body), "things", things)
		require.ErrorContains(t, err, want, "%q", body)
	}
}

// A value of the wrong type was worded in Go's types and yaml's tags
// ("cannot unmarshal !!str `messag...` into []string"), without its
// field (found in review): it names the field, what it wants and what it
// got, whole.
func TestDecode_WrongTypeNamesTheFieldInWords(t *testing.T) {
	t.Parallel()
	type item struct {
		Name   string             `yaml:"name"`
		Rate   float64            `yaml:"rate"`
		Fields []string           `yaml:"fields"`
		On     bool               `yaml:"on"`
		Limit  struct{ Tier int } `yaml:"limit"`
		Tags   map[string]string  `yaml:"tags"`
	}
	for body, want := range map[string]string{
		"name: a\nfields: messages_and_more\n": `line 2: fields: want a list, got "messages_and_more"`,
		"rate: fast\n":                         `line 1: rate: want a number, got "fast"`,
		"name: [a, b]\n":                       `line 1: name: want a string, got a list`,
		"on: maybe\n":                          `line 1: on: want true or false, got "maybe"`,
		"limit:\n  tier: high\n":               `line 2: limit.tier: want a number, got "high"`,
		"limit: 5\n":                           `line 1: limit: want a mapping, got "5"`,
		"tags: [x]\n":                          `line 1: tags: want a mapping, got a list`,
		"rate: x\non: perhaps\n":               `line 1: rate: want a number, got "x"; line 2: on: want true or false, got "perhaps"`,
	} {
		var n yaml.Node
		require.NoError(t, yaml.Unmarshal([]byte(body), &n))
		var v item
		err := yamllist.Decode(n.Content[0], &v)
		require.EqualError(t, err, want, "%q", body)
	}
	var v item
	var n yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte("name: a\nrate: 2\n"), &n))
	require.NoError(t, yamllist.Decode(n.Content[0], &v))
	require.Equal(t, 2.0, v.Rate)
}

// An item's fault names one line: its own when yaml gave it one, the
// item's otherwise ("line 2: destinations[0]: line 4: ..." named two).
func TestAt_NamesOneLine(t *testing.T) {
	t.Parallel()
	var v struct {
		Name string  `yaml:"name"`
		Rate float64 `yaml:"rate"`
	}
	for body, want := range map[string]string{
		"name: a\nname: b\n":   `line 2: things[0]: mapping key "name" already defined at line 1`,
		"rate: x\nname: [b]\n": `line 1: things[0]: rate: want a number, got "x"; line 2: things[0]: name: want a string, got a list`,
	} {
		var n yaml.Node
		require.NoError(t, yaml.Unmarshal([]byte(body), &n))
		require.EqualError(t, yamllist.At(yamllist.Decode(n.Content[0], &v), 1, "things[0]"), want, "%q", body)
	}
	require.EqualError(t, yamllist.At(errors.New("no line"), 7, "things[1]"), "line 7: things[1]: no line")
	require.EqualError(t, yamllist.At(yamllist.LineErrors{{Msg: "none known"}}, 7, "things[1]"), "line 7: things[1]: none known")
}
