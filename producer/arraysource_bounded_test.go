package producer

import (
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/readlimit"
	"github.com/stretchr/testify/require"
)

func TestArraySource_Bounded(t *testing.T) {
	t.Parallel()
	d := readlimit.NewDecoder(strings.NewReader(`[{"to": "441234567890"}, {"to": "441234567891", "metadata": {"a": "`+strings.Repeat("x", 200)+`"}}]`), 64)
	_, err := d.Token()
	require.NoError(t, err)
	src := NewArraySource(d)
	r, _, err := src.Next()
	require.NoError(t, err)
	require.Equal(t, "441234567890", r.To)
	_, _, err = src.Next()
	require.EqualError(t, err, "recipients[1]: larger than 64 bytes")
	var tl *readlimit.TooLargeError
	require.ErrorAs(t, err, &tl)

	d = readlimit.NewDecoder(strings.NewReader(`[{"to": "441234567890"},`+strings.Repeat("\n", 200)+`{"to": "441234567891"}]`), 64)
	_, _ = d.Token()
	src = NewArraySource(d)
	_, _, err = src.Next()
	require.NoError(t, err)
	_, _, err = src.Next()
	require.EqualError(t, err, "recipients[1]: larger than 64 bytes", "white space counts with the element after it")
}

// The names the bounded decoder had here still work.
func TestNewBoundedDecoder_StillHere(t *testing.T) {
	t.Parallel()
	d := NewBoundedDecoder(strings.NewReader(`"`+strings.Repeat("x", 100)+`"`), 16)
	var s string
	var tl *ValueTooLargeError
	require.ErrorAs(t, d.Decode(&s), &tl)
}
