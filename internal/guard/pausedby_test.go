package guard_test

import (
	"context"
	"testing"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/stretchr/testify/require"
)

// A sender's pause records who paused it (paused_by), and counts its
// campaigns in mmlite_campaigns_paused_total as operator whichever way an
// operator paused it (the api, the cli, the console), as sender_paused
// when an answer or a webhook did (found in review: the cli and the
// console recorded api, so an operator auditing a pause could not tell
// them apart).
func TestPauseSender_WhoPausedIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		by, reason, counted string
	}{
		{"api", guard.ReasonOperator, "operator"},
		{"cli", guard.ReasonOperator, "operator"},
		{"console", guard.ReasonOperator, "operator"},
		{"answer", "code 131031: locked", "sender_paused"},
		{"webhook", "code 131042: payment", "sender_paused"},
	} {
		t.Run(tc.by, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			g, st, _ := newGuard(t)
			register(t, st, "c", "s", "t")
			counted := map[string]int{}
			g = g.Counting(func(reason string, n int) { counted[reason] += n })
			paused, err := g.PauseSender(ctx, "s", tc.reason, 0, tc.by)
			require.NoError(t, err)
			require.Equal(t, []string{"c"}, paused)
			require.Equal(t, map[string]int{tc.counted: 1}, counted)
			s, err := g.Sender(ctx, "s")
			require.NoError(t, err)
			require.Equal(t, tc.by, s.PausedBy)
		})
	}
}
