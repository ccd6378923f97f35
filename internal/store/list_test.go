package store_test

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/redis/go-redis/v9"
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

// A page read in several chunks goes on from the last entry it read, not
// from a position: a campaign registered between two chunks shifted every
// position, and the page listed a campaign twice (found in review).
func TestList_APageReadsOnFromItsLastEntry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 150 {
		b.register(t, fmt.Sprintf("c%03d", i), 0)
	}
	b.r.Client.AddHook(&redistest.AfterFirst{Name: "zrange", Fn: func() {
		c := valid()
		c.ID = "new"
		c.Normalize()
		_, err := b.store.Campaigns.Register(b.ctx, &c)
		require.NoError(t, err)
	}})
	p, err := b.store.Campaigns.List(b.ctx, store.ListOptions{Limit: 120})
	require.NoError(t, err)
	seen := map[string]int{}
	for _, c := range p.Campaigns {
		seen[c.ID]++
		require.Equal(t, 1, seen[c.ID], "campaign %s listed twice on one page", c.ID)
	}
	require.Len(t, p.Campaigns, 120)
}

// Campaigns created in the same millisecond, more than a page reads: the
// entries an earlier page listed used up the next page's reads, and it
// handed back the cursor it was given, so that paging never ended (found
// in review).
func TestList_PagesThroughManyCampaignsOfOneMillisecond(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 30
	for i := range n {
		id := fmt.Sprintf("c%03d", i)
		b.register(t, id, 0)
		require.NoError(t, b.r.Client.ZAdd(b.ctx, b.r.Keys.Campaigns(), redis.Z{Score: 1796306544360, Member: id}).Err())
	}
	seen := map[string]int{}
	cur := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 2*n, "paging never ends: cursor %q keeps coming back", cur)
		p, err := b.store.Campaigns.List(b.ctx, store.ListOptions{Limit: 1, Cursor: cur})
		require.NoError(t, err)
		for _, c := range p.Campaigns {
			seen[c.ID]++
		}
		if p.NextCursor == "" {
			break
		}
		require.NotEqual(t, cur, p.NextCursor, "a page moves on")
		cur = p.NextCursor
	}
	require.Len(t, seen, n)
	for id, k := range seen {
		require.Equal(t, 1, k, id)
	}
}

// The state filter takes "" and the listed states; another is refused,
// naming them (the api's and the CLI's answer).
func TestCheckState(t *testing.T) {
	t.Parallel()
	require.NoError(t, store.CheckState(""))
	for _, s := range store.States() {
		require.NoError(t, store.CheckState(s))
	}
	require.EqualError(t, store.CheckState("sending"), `state "sending" is not one of scheduled, running, paused, cancelled, completed`)
}
