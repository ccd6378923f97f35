package ident_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/ident"
	"github.com/stretchr/testify/require"
)

func TestValid(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"spring-sale-2026", "a", "v1.2", ".hidden", "a..b", "_"} {
		require.True(t, ident.Valid(s), s)
	}
	for _, s := range []string{"", ".", "..", "...", "a/b", "a b", "é", string(make([]byte, 65))} {
		require.False(t, ident.Valid(s), s)
	}
}

// MaxLen is the length Valid and Rule say.
func TestMaxLen(t *testing.T) {
	t.Parallel()
	require.True(t, ident.Valid(strings.Repeat("a", ident.MaxLen)))
	require.False(t, ident.Valid(strings.Repeat("a", ident.MaxLen+1)))
	require.Contains(t, ident.Rule, "1-"+strconv.Itoa(ident.MaxLen)+" ")
}

func TestQuote(t *testing.T) {
	t.Parallel()
	require.Equal(t, `"spring"`, ident.Quote("spring"))
	require.Equal(t, `"a\nb"`, ident.Quote("a\nb"))
	long := strings.Repeat("x", 63) + "é" + strings.Repeat("y", 1000) // é straddles byte 64
	require.Equal(t, `"`+strings.Repeat("x", 63)+`..." (1065 bytes)`, ident.Quote(long), "cut at a whole rune")
	require.Equal(t, "spring", ident.Name("spring"))
	require.Equal(t, `"a b"`, ident.Name("a b"))
}
