package strictjson_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/strictjson"
	"github.com/stretchr/testify/require"
)

type doc struct {
	ID    string            `json:"id"`
	Inner *inner            `json:"inner,omitempty"`
	List  []inner           `json:"list"`
	Meta  map[string]string `json:"meta"`
	Free  json.RawMessage   `json:"free"`
	At    *time.Time        `json:"at"`
	Plain int
	skip  int //nolint:unused
}

type inner struct {
	Name string `json:"name"`
}

func TestCheckKeys(t *testing.T) {
	t.Parallel()
	shape := strictjson.ShapeOf[doc]()
	for in, want := range map[string]string{
		`{"id": "a", "inner": {"name": "x"}, "list": [{"name": "y"}], "meta": {"a": "1", "A": "2"}, "free": {"Any": 1}, "at": null, "Plain": 1}`: "",
		`{"id": "a", "id": "b"}`:                `"id" appears twice`,
		`{"id": "a", "\u0069d": "b"}`:           `"id" appears twice`,
		`{"ID": "a"}`:                           `unknown field "ID"`,
		`{"plain": 1}`:                          `unknown field "plain"`,
		`{"inner": {"name": "x", "Name": "y"}}`: `inner: unknown field "Name"`,
		`{"list": [{"name": "x"}, {"name": "x", "name": "y"}]}`: `list[1]: "name" appears twice`,
		`{"meta": {"a": "1", "a": "2"}}`:                        `meta: "a" appears twice`,
		`{"free": [{"k": 1, "k": 2}]}`:                          `free[0]: "k" appears twice`,
		`{"free": {"": 1, "": 2}}`:                              `free: "" appears twice`,
		`[{"a": 1}, {"b": {"c": 1, "c": 2}}]`:                   `[1].b: "c" appears twice`,
	} {
		var s *strictjson.Shape = shape
		if in[0] == '[' {
			s = nil
		}
		err := s.CheckKeys([]byte(in))
		if want == "" {
			require.NoError(t, err, in)
			continue
		}
		require.EqualError(t, err, want, in)
	}
	var e *strictjson.Error
	require.True(t, errors.As(shape.CheckKeys([]byte(`{"id": "a",  "id": "b"}`)), &e))
	require.EqualValues(t, 13, e.Offset, "the offset of the second key")
}

// Many keys in one object are checked through a set.
func TestCheckKeys_ManyKeys(t *testing.T) {
	t.Parallel()
	b := []byte("{")
	for i := range 100 {
		b = append(b, `"k`...)
		b = append(b, byte('a'+i/26), byte('a'+i%26))
		b = append(b, `": 1,`...)
	}
	require.NoError(t, strictjson.ShapeOf[map[string]int]().CheckKeys(append(b, `"z": 1}`...)))
	require.EqualError(t, strictjson.ShapeOf[map[string]int]().CheckKeys(append(b, `"kda": 1}`...)), `"kda" appears twice`)
}

func TestCheckUTF8(t *testing.T) {
	t.Parallel()
	require.NoError(t, strictjson.CheckUTF8([]byte(`{"a": "café"}`)))
	for in, want := range map[string]string{
		"{\"to\": \"1\", \"components\": [{\"parameters\": [{\"text\": \"caf\xe9\"}]}]}": "components[0].parameters[0].text: not valid UTF-8 (save the file as UTF-8)",
		"{\"metadata\": {\"crm\": \"\xff\"}}":                                            "metadata.crm: not valid UTF-8",
		"{\"metadata\": {\"cr\xffm\": \"x\"}}":                                           "metadata: a key: not valid UTF-8",
		"\"\xc3\"":                                                                       "not valid UTF-8",
		"[1, \xff]":                                                                      "not valid UTF-8 (save the file as UTF-8) at byte 4",
	} {
		require.ErrorContains(t, strictjson.CheckUTF8([]byte(in)), want, "%q", in)
	}
}

// Data after the value is a *TrailingError saying where the value ends.
func TestUnmarshal_Trailing(t *testing.T) {
	t.Parallel()
	var v inner
	err := strictjson.Unmarshal([]byte(`{"name": "x"}  {}`), strictjson.ShapeOf[inner](), &v)
	require.EqualError(t, err, "data after the JSON value")
	var te *strictjson.TrailingError
	require.ErrorAs(t, err, &te)
	require.EqualValues(t, 13, te.End)
	require.Equal(t, "x", v.Name, "the value is decoded")
	require.NoError(t, strictjson.Unmarshal([]byte("{\"name\": \"x\"} \n"), strictjson.ShapeOf[inner](), &v))
}

// Whatever the input, the checks end without a panic.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		`{"id": "a", "inner": {"name": "x"}, "list": [{"name": "y"}], "meta": {"a": "1"}}`,
		"{\"a\": [1, {\"\\u00e9\": \"\xff\"}]",
		`{"a" 1, : ] } [[[`,
		`[,,]{}{"":`,
		"\"\\",
	} {
		f.Add([]byte(s))
	}
	shape := strictjson.ShapeOf[doc]()
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = shape.CheckKeys(b)
		if err := strictjson.CheckUTF8(b); err != nil {
			var e *strictjson.Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset > int64(len(b)) {
				t.Fatalf("%q: %v", b, err)
			}
		}
	})
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"meta": ["a"]}`: "meta: want a JSON object, got array",
		`{"list": {}}`:    "list: want an array, got object",
		`{"id": 5}`:       "id: want string, got number",
		`[]`:              "want a JSON object, got array",
		`{"x": 1}`:        `unknown field "x"`,
	} {
		d := json.NewDecoder(strings.NewReader(in))
		d.DisallowUnknownFields()
		require.Equal(t, want, strictjson.Describe(d.Decode(new(doc))), in)
	}
}

// WantTime said "e.g. 2026-12-24T09:00:00Z": a date that passes, after
// which the example the error gives, copied into expires_at, is refused as
// past, and into send_at sends at once. It shows the form, with no date.
func TestWantTime_ShowsTheFormNotADate(t *testing.T) {
	t.Parallel()
	require.NotRegexp(t, `\d{4}-\d{2}-\d{2}`, strictjson.WantTime)
	require.Contains(t, strictjson.WantTime, "YYYY-MM-DDThh:mm:ss")
	require.Contains(t, strictjson.WantTime, "Z")
}
