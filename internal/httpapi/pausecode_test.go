package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/stretchr/testify/require"
)

// A campaign a guard paused carries Meta's code behind the pause in its
// status's error.code, as one the worker paused on a campaign-fatal answer
// does: a template paused (132015) or disabled (132016), whether a
// template webhook or a failed status says so, a sender paused by a failed
// status of its code. An account event has no Meta code: 0, its reason in
// the title. (Found in review: every guard's pause said 0, the code only
// inside its title, so that an upstream system switching on error.code
// could not tell them apart.)
func TestWebhooks_GuardPauseCarriesItsCode(t *testing.T) {
	t.Parallel()
	template := func(event string) string {
		return change("message_template_status_update", `{"event":"`+event+
			`","message_template_id":1,"message_template_name":"spring_sale","message_template_language":"pt_BR","reason":"FLAGGED"}`)
	}
	failed := func(code string) string {
		return strings.ReplaceAll(fixture(t, "webhook_status_failed.json"), "131049", code)
	}
	for name, c := range map[string]struct {
		body   string
		code   int
		reason string
	}{
		"template PAUSED":   {template("PAUSED"), 132015, campaign.PauseTemplate + ": FLAGGED"},
		"template DISABLED": {template("DISABLED"), 132016, campaign.PauseTemplateDisabled + ": FLAGGED"},
		"status 132015":     {failed("132015"), 132015, campaign.PauseTemplate + ": code 132015: "},
		"status 131042":     {failed("131042"), 131042, campaign.PauseSender + ": code 131042: "},
		"account_update":    {change("account_update", `{"event":"ACCOUNT_VIOLATION"}`), 0, campaign.PauseSender + ": account_update ACCOUNT_VIOLATION"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := hookSetup(t, nil)
			require.Equal(t, 200, b.hook(t, c.body).code)
			a := b.do(t, "GET", "/v1/campaigns/spring-sale-2026", "", "")
			require.Equal(t, 200, a.code, a.raw)
			var st campaign.Status
			require.NoError(t, json.Unmarshal([]byte(a.raw), &st))
			require.Equal(t, campaign.StatePaused, st.State, a.raw)
			require.True(t, strings.HasPrefix(st.PausedReason, c.reason), a.raw)
			require.NotNil(t, st.Error, a.raw)
			require.Equal(t, c.code, st.Error.Code, a.raw)
			require.Equal(t, st.PausedReason, st.Error.Title, "the title stays the reason: %s", a.raw)
		})
	}
}

// An operator's pause of a campaign a guard paused takes it over, and
// carries no error, as an operator's pause of a running campaign: the
// guard's error went with its reason (found in review: the status said
// paused_reason "operator: paused by the operator" with the template's
// error.code 132015 and title, so a system switching on error.code took
// the operator's pause for the template's).
func TestPause_OperatorsPauseOfAGuardsPauseHasNoError(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	require.Equal(t, 200, b.hook(t, change("message_template_status_update",
		`{"event":"PAUSED","message_template_id":1,"message_template_name":"spring_sale","message_template_language":"pt_BR","reason":"FLAGGED"}`)).code)
	a := b.do(t, "POST", "/v1/campaigns/spring-sale-2026/pause", "", "")
	require.Equal(t, 200, a.code, a.raw)
	for _, raw := range []string{a.raw, b.do(t, "GET", "/v1/campaigns/spring-sale-2026", "", "").raw} {
		var st map[string]any
		require.NoError(t, json.Unmarshal([]byte(raw), &st))
		require.Equal(t, "paused", st["state"], raw)
		require.Equal(t, "operator: paused by the operator", st["paused_reason"], raw)
		require.NotContains(t, st, "error", raw)
	}
}
