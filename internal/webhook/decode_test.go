package webhook

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecode_SameAsEncodingJSON: Parse reads a body with the JSON v2
// prototype in its v1 mode, for speed; it accepts and refuses exactly the
// bodies encoding/json does, and reads the same from them. The seeds are
// FuzzParse's.
func FuzzDecode_SameAsEncodingJSON(f *testing.F) {
	addParseSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var got, want envelope
		errGot, errWant := decode(body, &got), json.Unmarshal(body, &want)
		require.Equal(t, errWant == nil, errGot == nil, "encoding/json says %v, Parse %v", errWant, errGot)
		if errWant == nil {
			require.Equal(t, want, got)
		}
	})
}

// addParseSeeds adds FuzzParse's seeds (the fixtures and edge cases) to f.
func addParseSeeds(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	require.NoError(f, err)
	require.NotEmpty(f, seeds)
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		_, lit, _ := strings.Cut(strings.TrimSpace(string(b)), "[]byte(")
		s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		require.NoError(f, err, p)
		f.Add([]byte(s))
	}
}
