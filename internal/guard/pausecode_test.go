package guard_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/stretchr/testify/require"
)

// requirePausedWith: the campaign is paused for a reason that starts with
// prefix, and its status's error carries Meta's code and the reason.
func requirePausedWith(t *testing.T, st *store.Store, id, prefix string, code int) {
	t.Helper()
	s, err := st.Campaigns.Status(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, s.State, id)
	require.True(t, strings.HasPrefix(s.PausedReason, prefix), "%s: %s", id, s.PausedReason)
	require.NotNil(t, s.Error, "%s: a guard's pause carries its error", id)
	require.Equal(t, code, s.Error.Code, "%s: %s", id, s.PausedReason)
	require.Equal(t, s.PausedReason, s.Error.Title, id)
}

// Every way a guard pauses a campaign carries Meta's code in the status's
// error, as the worker's own campaign-fatal pause does: the scans, a
// campaign registered while its template is held, one paused at its first
// claim while its sender is, one moved from its sender's pause to its
// template's when the sender resumes, one paused again under a template's
// hold, one an answer pauses while its sender is paused already (with the
// code in force). An operator's pause of the sender has no Meta code: 0
// (found in review: each said 0, or had no error at all).
func TestGuardPauses_CarryTheirCode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, st, r := newGuard(t)
	require.NoError(t, registry.New(r.Client, r.Keys).Publish(ctx, []*sender.Sender{
		{ID: "s", Rate: 1, Burst: 1, WABAID: "W"}, {ID: "op", Rate: 1, Burst: 1, WABAID: "X"}}))
	register(t, st, "scanned", "s", "t1")
	register(t, st, "operator", "op", "t1")

	_, err := g.PauseSender(ctx, "s", "code 131042: Business eligibility payment issue", 131042, guard.SourceWebhook)
	require.NoError(t, err)
	requirePausedWith(t, st, "scanned", guard.ReasonSenderPaused, 131042)
	_, err = g.PauseSender(ctx, "op", guard.ReasonOperator, 0, guard.SourceAPI)
	require.NoError(t, err)
	requirePausedWith(t, st, "operator", guard.ReasonSenderPaused, 0)

	register(t, st, "claimed", "s", "t1")
	require.Equal(t, store.Paused, claim(t, st, "claimed", "441", &store.ClaimGuard{Sender: "s", Scope: "W"}).Verdict)
	requirePausedWith(t, st, "claimed", guard.ReasonSenderPaused, 131042)

	register(t, st, "answered", "s", "t1")
	_, err = g.PauseSenderOf(ctx, "answered", "s", "code 131031 (HTTP 403): locked", 131031, guard.SourceAnswer)
	require.NoError(t, err)
	requirePausedWith(t, st, "answered", guard.ReasonSenderPaused+": code 131042", 131042)

	_, err = g.PauseTemplate(ctx, "W", "t1", "en", guard.ReasonTemplateDisabled+": FLAGGED", time.Time{})
	require.NoError(t, err)
	reg, err := st.Campaigns.Register(ctx, &campaign.Campaign{ID: "held", Sender: "s",
		Template: mmapi.Template{Name: "t1", Language: mmapi.Language{Code: "en"}}}, guard.TemplateHolds(r.Keys, "W", "t1", "en")...)
	require.NoError(t, err)
	require.True(t, reg.Paused)
	requirePausedWith(t, st, "held", guard.ReasonTemplateDisabled, 132016)

	_, err = g.ResumeSender(ctx, "s", resumer(st))
	require.NoError(t, err)
	requirePausedWith(t, st, "scanned", guard.ReasonTemplateDisabled, 132016)

	_, err = st.Campaigns.Resume(ctx, "held") // an operator
	require.NoError(t, err)
	paused, err := st.Campaigns.Rehold(ctx, "held", guard.TemplateHolds(r.Keys, "W", "t1", "en")...)
	require.NoError(t, err)
	require.True(t, paused)
	requirePausedWith(t, st, "held", guard.ReasonTemplateDisabled, 132016)
}
