package producer_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// The first non-blank line of JSON Lines decides whether the input is JSON
// Lines at all: one that is no JSON object stops the input at that line,
// saying what it looks like; ReadFirst reads it before any row is asked
// for, and the rows after it are read as before.
func TestJSONL_ReadFirst(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"phone,name\n+15550001,Ann\n":       "line 1: not a JSON object: the input looks like CSV",
		"\ufeff\r\n\"+15550001\";Ann\r\n":   "line 2: not a JSON object: the input looks like CSV",
		"to,body.1\n441234567890,a\n":       "line 1: this is a CSV header, not JSON Lines",
		"[{\"to\": \"441234567890\"}]\n":    "line 1: an array, not a JSON object: the input looks like a JSON array",
		"441234567890\n":                    `line 1: a number, not a JSON object {"to": ...}`,
		"hello\n{\"to\": \"441234567890\"}": `line 1: not a JSON object {"to": ...}`,
	} {
		src := producer.NewJSONLSource(strings.NewReader(in))
		err := src.ReadFirst()
		var nj *producer.NotJSONLinesError
		require.ErrorAs(t, err, &nj, "%q", in)
		require.Equal(t, want, err.Error(), "%q", in)
		_, err2 := drain(t, src)
		require.Equal(t, err, err2, "Next says so too")
		_, err = drain(t, producer.NewJSONLSource(strings.NewReader(in)))
		require.Equal(t, want, err.Error(), "without ReadFirst, %q", in)
	}

	src := producer.NewJSONLSource(strings.NewReader(" \n\n"))
	require.ErrorIs(t, src.ReadFirst(), io.EOF, "no line at all")

	src = producer.NewJSONLSource(strings.NewReader("\n{\"to\": \"441234567890\"\n{\"to\": \"441234567891\"}\n[1]\n"))
	require.NoError(t, src.ReadFirst(), "an object, broken: a rejected row")
	rows, err := drain(t, src)
	require.NoError(t, err)
	require.Len(t, rows, 3)
	require.Equal(t, 2, rows[0].line)
	require.Contains(t, rows[0].err, "invalid JSON")
	require.Equal(t, "441234567891", rows[1].r.To)
	require.Equal(t, 4, rows[2].line)
	require.Contains(t, rows[2].err, "want a JSON object")

	src = producer.NewJSONLSource(strings.NewReader("\xff\xfe{\x00"))
	err = src.ReadFirst()
	require.Error(t, err)
	require.False(t, errors.Is(err, io.EOF))
}
