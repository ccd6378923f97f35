package ident_test

import (
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
