package guard_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/stretchr/testify/require"
)

// Recipients reached while the sender's limit is unlimited (the default,
// or TIER_UNLIMITED) count once a quality update lowers it within the
// window: they went uncounted, so a lower tier let another full tier of
// new recipients through, and the reported use read 0 (found in review).
func TestReach_CountedWhileUnlimited(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, st, _ := newGuard(t)
	register(t, st, "c", "s", "t")
	cg := &store.ClaimGuard{Sender: "s", Scope: "W", LimitScope: "P", Limit: 0, Window: time.Hour, Cooldown: time.Hour}
	for i := range 5 {
		require.Equal(t, store.Claimed, claim(t, st, "c", fmt.Sprintf("4410%d", i), cg).Verdict)
	}
	use, err := g.Use(ctx, "P", 0)
	require.NoError(t, err)
	require.EqualValues(t, 5, use.Reached, "the recipients reached in the window")
	cg.Limit = 2 // a phone_number_quality_update: a lower tier
	require.Equal(t, store.Limited, claim(t, st, "c", "44199", cg).Verdict, "5 reached already, limit 2: a new recipient waits")
}
