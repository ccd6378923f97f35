package webhook_test

import (
	"testing"

	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/stretchr/testify/require"
)

func TestParse_TemplateAndQualityUpdates(t *testing.T) {
	t.Parallel()
	body := `{"object":"whatsapp_business_account","entry":[{"id":"W1","time":1764064000,"changes":[
{"field":"message_template_status_update","value":{"event":"PAUSED","message_template_id":1,"message_template_name":"spring_sale","message_template_language":"pt_BR","reason":"LOW_QUALITY"}},
{"field":"message_template_status_update","value":{"event":"PAUSED"}},
{"field":"phone_number_quality_update","value":{"display_phone_number":"15550783881","event":"UPGRADE","current_limit":"TIER_10K"}},
{"field":"phone_number_quality_update","value":{"display_phone_number":"15550783881","event":"FLAGGED"}}]}]}`
	ev, err := webhook.Parse([]byte(body))
	require.NoError(t, err)
	require.Len(t, ev.Templates, 1)
	require.Equal(t, webhook.TemplateUpdate{WABAID: "W1", Event: "PAUSED", Name: "spring_sale", Language: "pt_BR", Reason: "LOW_QUALITY",
		Time: ev.Templates[0].Time}, ev.Templates[0])
	require.Equal(t, 1, ev.Other, "a template update without a name is counted, not acted on")
	require.Len(t, ev.Qualities, 2)
	n, ok := ev.Qualities[0].Limit()
	require.True(t, ok)
	require.Equal(t, 10000, n)
	_, ok = ev.Qualities[1].Limit()
	require.False(t, ok, "an update without the current limit sets none")
	n, ok = webhook.QualityUpdate{CurrentLimit: "TIER_UNLIMITED"}.Limit()
	require.True(t, ok)
	require.Zero(t, n)
}
