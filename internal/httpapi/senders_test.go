package httpapi_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// GET /v1/senders/{id} is the sender as GET /v1/senders lists it (guard
// state, throttle, effective rate, scopes, messaging limit use), plus its
// onboarded_at and its clicks by tracking token.
func TestGetSender_IsTheListedSenderPlusOnboardingAndClicks(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	require.Equal(t, 200, b.hook(t, change("phone_number_quality_update",
		`{"display_phone_number":"15550783881","event":"UPGRADE","current_limit":"TIER_2K"}`)).code)
	require.Equal(t, 200, b.hook(t, fixture(t, "webhook_click.json")).code)
	require.Equal(t, 200, b.do(t, "POST", "/v1/senders/default/pause", "", "").code)

	list := b.do(t, "GET", "/v1/senders", "", "")
	require.Equal(t, 200, list.code, list.raw)
	senders := list.body["senders"].([]any)
	require.Len(t, senders, 1, list.raw)
	listed := senders[0].(map[string]any)

	one := b.do(t, "GET", "/v1/senders/default", "", "")
	require.Equal(t, 200, one.code, one.raw)
	for k, v := range listed {
		require.Contains(t, one.body, k, "GET /v1/senders/default lacks %q of the list: %s", k, one.raw)
		require.Equal(t, v, one.body[k], "%s: %s", k, one.raw)
	}
	for _, k := range []string{"state", "paused_reason", "paused_at", "paused_by", "effective_rate",
		"scope", "limit_scope", "messaging_limit_use"} {
		require.Contains(t, one.body, k, one.raw)
	}
	require.Equal(t, "paused", one.body["state"], one.raw)
	require.Equal(t, map[string]any{"limit": 2000.0, "reached": 0.0}, one.body["messaging_limit_use"], one.raw)
	require.Equal(t, map[string]any{"spring-sale-2026": 1.0}, one.body["clicks"], one.raw)
	require.Contains(t, one.body, "onboarded_at", one.raw)
	require.Len(t, one.body, len(listed)+2, "the listed fields, onboarded_at and clicks: %s", one.raw)

	require.Equal(t, 404, b.do(t, "GET", "/v1/senders/nosuch", "", "").code)
}
