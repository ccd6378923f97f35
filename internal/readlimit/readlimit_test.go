package readlimit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// countReader counts the bytes read from it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestBoundedDecoder(t *testing.T) {
	t.Parallel()
	const limit = 16
	in := `{"a": 1} "0123456789abc" [1,2,3,4,5,6,78]    ` + `"` + strings.Repeat("x", 1000) + `" 7`
	src := &countReader{r: strings.NewReader(in)}
	d := NewDecoder(src, limit)
	for _, want := range []string{`{"a": 1}`, `"0123456789abc"`} {
		var v json.RawMessage
		require.NoError(t, d.Decode(&v))
		require.Equal(t, want, string(v))
	}
	// 17 bytes with the white space before it, and an array needs no
	// look-ahead: the one byte more passes.
	var v json.RawMessage
	require.NoError(t, d.Decode(&v))
	require.Equal(t, `[1,2,3,4,5,6,78]`, string(v))
	err := d.Decode(&v)
	var tl *TooLargeError
	require.ErrorAs(t, err, &tl)
	require.EqualError(t, err, "larger than 16 bytes")
	require.LessOrEqual(t, src.n, d.InputOffset()+limit+1, "read no further than the limit")
	require.ErrorAs(t, d.Decode(&v), &tl, "the decoder stays stopped")

	// Tokens and More are bounded the same way.
	d = NewDecoder(strings.NewReader(`{"`+strings.Repeat("k", 100)+`": 1}`), limit)
	tok, err := d.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	_, err = d.Token()
	require.ErrorAs(t, err, &tl)
	d = NewDecoder(strings.NewReader(`[1,`+strings.Repeat(" ", 100)+`2]`), limit)
	_, _ = d.Token()
	require.True(t, d.More())
	require.NoError(t, d.Decode(&v))
	require.True(t, d.More())
	require.ErrorAs(t, d.Decode(&v), &tl, "the white space before a value counts with it")
	d = NewDecoder(strings.NewReader(`[1`+strings.Repeat(" ", 100)+`]`), limit)
	_, _ = d.Token()
	require.NoError(t, d.Decode(&v))
	require.False(t, d.More())
	_, err = d.Token()
	require.ErrorAs(t, err, &tl)
}

// FuzzBoundedDecoder reads any input with a bounded decoder and a plain
// json.Decoder side by side, value by value (or token by token): they agree
// on every value, offset and error, except that the bounded one refuses a
// value (with the white space before it) longer than its limit, and only
// such a value; it never holds more than limit+1 bytes it has not
// consumed. The seeds are in testdata/fuzz/FuzzBoundedDecoder.
func FuzzBoundedDecoder(f *testing.F) {
	for _, s := range []string{`{"a": 1} "xyz" [1, 2]   7 true null`, `[{"to": "1"}, {"to": "` + strings.Repeat("x", 40) + `"}]`,
		`{"a" 1}`, `"abc`, `    `, `12345678901234567890`, `{"k": [1, {"x": "\u00e9\"\\"}], "` + strings.Repeat("k", 30) + `": 1}`} {
		f.Add([]byte(s), uint16(8), false)
		f.Add([]byte(s), uint16(16), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, limit uint16, tokens bool) {
		lim := int64(limit % 512)
		plain := json.NewDecoder(bytes.NewReader(data))
		src := &countReader{r: bytes.NewReader(data)}
		bounded := NewDecoder(src, lim)
		for i := 0; ; i++ {
			// Where the value begins with the white space before it:
			// More moves the offset past that white space.
			before := plain.InputOffset()
			if tokens && !sameMore(t, data, plain, bounded, lim) {
				return
			}
			want, werr := next(plain, tokens)
			got, gerr := next(bounded, tokens)
			if held := src.n - bounded.InputOffset(); held > lim+1 {
				t.Fatalf("holds %d bytes not consumed, limit %d", held, lim)
			}
			var tl *TooLargeError
			if errors.As(gerr, &tl) {
				used := plain.InputOffset() - before
				switch {
				case werr == nil && used <= lim:
					t.Fatalf("value %d refused: %d bytes, limit %d", i, used, lim)
				case errors.Is(werr, io.ErrUnexpectedEOF) && int64(len(data))-before <= lim:
					t.Fatalf("value %d refused: the input ends %d bytes later, limit %d", i, int64(len(data))-before, lim)
				}
				return
			}
			if fmt.Sprint(werr) != fmt.Sprint(gerr) || want != got || plain.InputOffset() != bounded.InputOffset() {
				t.Fatalf("value %d: plain %q, %v at %d; bounded %q, %v at %d", i, want, werr, plain.InputOffset(), got, gerr, bounded.InputOffset())
			}
			if werr != nil {
				return
			}
		}
	})
}

// sameMore checks that More agrees, or that the bounded decoder stopped at
// white space longer than its limit; false when it stopped.
func sameMore(t *testing.T, data []byte, plain, bounded *json.Decoder, lim int64) bool {
	want, got := plain.More(), bounded.More()
	if want == got {
		return true
	}
	_, err := bounded.Token()
	var tl *TooLargeError
	rest := data[bounded.InputOffset():]
	ws := int64(len(rest) - len(bytes.TrimLeft(rest, " \t\r\n")))
	if !errors.As(err, &tl) || ws <= lim {
		t.Fatalf("More: plain %v, bounded %v (then %v) before %d bytes of white space, limit %d", want, got, err, ws, lim)
	}
	return false
}

// next reads a value (or a token) and prints it.
func next(d *json.Decoder, tokens bool) (string, error) {
	if tokens {
		tok, err := d.Token()
		return fmt.Sprintf("%T %v", tok, tok), err
	}
	var v json.RawMessage
	err := d.Decode(&v)
	return string(v), err
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fits := filepath.Join(dir, "fits.json")
	require.NoError(t, os.WriteFile(fits, bytes.Repeat([]byte("x"), 16), 0o600))
	b, err := ReadFile(fits, 16)
	require.NoError(t, err)
	require.Len(t, b, 16)

	big := filepath.Join(dir, "big.json")
	require.NoError(t, os.WriteFile(big, bytes.Repeat([]byte("x"), 17), 0o600))
	_, err = ReadFile(big, 16)
	var tl *TooLargeError
	require.ErrorAs(t, err, &tl)
	require.EqualError(t, err, big+": larger than 16 bytes")

	// A file without an end costs the limit, not the memory.
	_, err = ReadFile("/dev/zero", 1<<20)
	require.EqualError(t, err, "/dev/zero: larger than 1048576 bytes")

	_, err = ReadFile(filepath.Join(dir, "missing"), 16)
	require.ErrorIs(t, err, os.ErrNotExist)
}
