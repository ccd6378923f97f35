package bom_test

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/bom"
	"github.com/stretchr/testify/require"
)

func TestSkip(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"\xEF\xBB\xBFto\n": "to\n", "to\n": "to\n", "": "", "\xEF\xBB": "\xEF\xBB"} {
		r := bufio.NewReader(strings.NewReader(in))
		require.NoError(t, bom.Skip(r), "%q", in)
		rest, _ := io.ReadAll(r)
		require.Equal(t, want, string(rest), "%q", in)
	}
	for _, in := range []string{"\xFF\xFEt\x00o\x00", "\xFE\xFF\x00t\x00o"} {
		require.ErrorIs(t, bom.Skip(bufio.NewReader(strings.NewReader(in))), bom.ErrUTF16, "%q", in)
	}
}
