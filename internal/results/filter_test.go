package results

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Flags, query strings and the console's form give lists separated by
// commas or spaces; one reader takes them all.
func TestParseCodes(t *testing.T) {
	t.Parallel()
	got, err := ParseCodes([]string{"131026, 131049", "368 190", ""})
	require.NoError(t, err)
	require.Equal(t, []int{131026, 131049, 368, 190}, got)
	_, err = ParseCodes([]string{"131026,x"})
	require.EqualError(t, err, `"x" is not an error code (a positive number such as 131026)`)
	_, err = ParseFilter([]string{"failed, unknown"}, []string{"0"})
	require.EqualError(t, err, `code "0" is not an error code (a positive number such as 131026)`)
	f, err := ParseFilter([]string{"failed, unknown"}, nil)
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"failed": true, "unknown": true}, f.Statuses)
}
