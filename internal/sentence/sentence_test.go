package sentence_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/mmlite/mmlite/internal/sentence"
	"github.com/stretchr/testify/require"
)

func TestOf(t *testing.T) {
	t.Parallel()
	kind := errors.New("pkg: not found")
	err := sentence.Of(kind, "thing %s not found: %w", "x", io.ErrUnexpectedEOF)
	require.EqualError(t, err, "thing x not found: unexpected EOF", "the sentence alone")
	require.ErrorIs(t, err, kind)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "its %w operand")
	wrapped := fmt.Errorf("pkg: get x: %w", err)
	require.ErrorIs(t, wrapped, kind, "wrapped, for the logs")
	require.EqualError(t, wrapped, "pkg: get x: thing x not found: unexpected EOF")
}
