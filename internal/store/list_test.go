package store_test

import (
	"encoding/base64"
	"testing"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/stretchr/testify/require"
)

// A cursor is a creation time and an id: one whose time is no number
// Redis takes as a score bound (NaN, infinities: a 500 on a real Redis,
// which refuses them) is a bad cursor, like any other that no page gave.
func TestList_CursorWithoutAFiniteTimeIsBad(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c1", 1)
	for _, score := range []string{"NaN", "nan", "+Inf", "-Inf", "inf", "Infinity", "1e400", "0x1p-2", "1_000", ""} {
		cur := base64.RawURLEncoding.EncodeToString([]byte(score + "\nx"))
		_, err := b.store.Campaigns.List(b.ctx, store.ListOptions{Cursor: cur})
		require.ErrorIs(t, err, store.ErrBadCursor, "%q", score)
	}
	page, err := b.store.Campaigns.List(b.ctx, store.ListOptions{Cursor: base64.RawURLEncoding.EncodeToString([]byte("9999999999999\nx"))})
	require.NoError(t, err, "a cursor of a page")
	require.Len(t, page.Campaigns, 1)
}
