package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

const fixtureWABA = "102290129340398"

func change(field, value string) string {
	return fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":%q,"time":1764064000,"changes":[{"field":%q,"value":%s}]}]}`,
		fixtureWABA, field, value)
}

// A failed status whose code says the account cannot send (131042: a
// payment problem, 131031: the account locked, 368: restricted) pauses the
// sender, as the same code in an answer does: Meta often takes the send
// and says so in the status (found in review: the webhook's statuses
// passed over these codes, and every campaign of the sender sent on).
func TestWebhooks_FailedStatusPausesTheSender(t *testing.T) {
	t.Parallel()
	for _, code := range []string{"131042", "131031", "368"} {
		t.Run(code, func(t *testing.T) {
			t.Parallel()
			b := hookSetup(t, nil)
			body := strings.ReplaceAll(fixture(t, "webhook_status_failed.json"), "131049", code)
			require.Equal(t, 200, b.hook(t, body).code)
			a := b.do(t, "GET", "/v1/senders", "", "")
			require.Equal(t, 200, a.code, a.raw)
			require.Contains(t, a.raw, `"state":"paused"`, a.raw)
			require.Contains(t, a.raw, `"paused_by":"webhook"`, a.raw)
			require.Contains(t, a.raw, "code "+code, a.raw)
			st, err := b.p.Store().Campaigns.Status(context.Background(), "spring-sale-2026")
			require.NoError(t, err)
			require.Equal(t, campaign.StatePaused, st.State)
			require.Contains(t, st.PausedReason, guard.ReasonSenderPaused)
		})
	}
}

// account_update DISABLED_UPDATE says, in ban_info.waba_ban_state, whether
// the WABA is to be disabled, is, or is reinstated: only a ban pauses the
// sender (found in review: the reinstatement paused it too).
func TestWebhooks_DisabledUpdateByBanState(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		ban    string
		paused bool
	}{{`["REINSTATE"]`, false}, {`"REINSTATE"`, false}, {`["DISABLE"]`, true}, {`["SCHEDULE_FOR_DISABLE"]`, true}, {`null`, true}} {
		t.Run(c.ban, func(t *testing.T) {
			t.Parallel()
			b := hookSetup(t, nil)
			body := change("account_update", `{"event":"DISABLED_UPDATE","ban_info":{"waba_ban_state":`+c.ban+`,"waba_ban_date":"2026-03-01"}}`)
			require.Equal(t, 200, b.hook(t, body).code)
			st, err := b.p.Store().Campaigns.Status(context.Background(), "spring-sale-2026")
			require.NoError(t, err)
			require.Equal(t, c.paused, st.State == campaign.StatePaused, st.PausedReason)
		})
	}
}

// Meta replaces a quality update's current_limit with
// max_daily_conversations_per_business (February 2026): either sets the
// messaging limit, the new one first.
func TestWebhooks_QualityUpdateMaxDailyConversations(t *testing.T) {
	t.Parallel()
	for value, want := range map[string]string{
		`{"event":"UPGRADE","max_daily_conversations_per_business":"TIER_10K"}`:                            `"limit":10000`,
		`{"event":"UPGRADE","max_daily_conversations_per_business":"100000"}`:                              `"limit":100000`,
		`{"event":"UPGRADE","max_daily_conversations_per_business":2000,"current_limit":"TIER_250"}`:       `"limit":2000`,
		`{"event":"DOWNGRADE","max_daily_conversations_per_business":"UNKNOWN","current_limit":"TIER_1K"}`: `"limit":1000`,
	} {
		b := hookSetup(t, nil)
		require.Equal(t, 200, b.hook(t, change("phone_number_quality_update", value)).code)
		a := b.do(t, "GET", "/v1/senders", "", "")
		require.Equal(t, 200, a.code)
		require.Contains(t, a.raw, `"messaging_limit_use":{`+want, value)
	}
}

func changeAt(at int64, field, value string) string {
	return fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":%q,"time":%d,"changes":[{"field":%q,"value":%s}]}]}`,
		fixtureWABA, at, field, value)
}

// Webhooks come at least once and in any order: a template's PAUSED
// delivered again after its REINSTATED (entry.time says it is older) does
// not pause the campaigns of a template that is live again, and an older
// quality update does not undo a newer limit (found in review: both did,
// and the campaign stayed paused with nothing left to resume it).
func TestWebhooks_OlderGuardEventsDeliveredAgain(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	tmpl := func(at int64, event string) string {
		return changeAt(at, "message_template_status_update", `{"event":"`+event+
			`","message_template_id":1,"message_template_name":"spring_sale","message_template_language":"pt_BR","reason":null}`)
	}
	state := func() campaign.State {
		st, err := b.p.Store().Campaigns.Status(context.Background(), "spring-sale-2026")
		require.NoError(t, err)
		return st.State
	}
	require.Equal(t, 200, b.hook(t, tmpl(1764064000, "PAUSED")).code)
	require.Equal(t, campaign.StatePaused, state())
	require.Equal(t, 200, b.hook(t, tmpl(1764075000, "REINSTATED")).code)
	require.Equal(t, campaign.StateRunning, state())
	require.Equal(t, 200, b.hook(t, tmpl(1764064000, "PAUSED")).code) // delivered again
	require.Equal(t, campaign.StateRunning, state(), "an older PAUSED paused a reinstated template's campaign")
	require.Equal(t, 200, b.hook(t, tmpl(1764080000, "PAUSED")).code) // a newer one does
	require.Equal(t, campaign.StatePaused, state())

	// A failed status that says the template is paused, of a time before
	// the REINSTATED acted on, is as old: the campaign runs on. (The
	// fixture's status is of 1764064811.)
	require.Equal(t, 200, b.hook(t, tmpl(1764090000, "REINSTATED")).code)
	require.Equal(t, campaign.StateRunning, state())
	require.Equal(t, 200, b.hook(t, strings.ReplaceAll(fixture(t, "webhook_status_failed.json"), "131049", "132015")).code)
	require.Equal(t, campaign.StateRunning, state(), "a status older than the template's reinstatement paused its campaign")

	quality := func(at int64, tier string) string {
		return changeAt(at, "phone_number_quality_update", `{"display_phone_number":"15550783881","event":"UPGRADE","current_limit":"`+tier+`"}`)
	}
	require.Equal(t, 200, b.hook(t, quality(1764064000, "TIER_2K")).code)
	require.Equal(t, 200, b.hook(t, quality(1764150400, "TIER_10K")).code)
	require.Equal(t, 200, b.hook(t, quality(1764064000, "TIER_2K")).code) // delivered again
	a := b.do(t, "GET", "/v1/senders", "", "")
	require.Contains(t, a.raw, `"messaging_limit_use":{"limit":10000`, a.raw)
}

// A failed status with 131050 suppresses its recipient in the sender's WABA.
func TestWebhooks_131050Suppresses(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	body := strings.ReplaceAll(fixture(t, "webhook_status_failed.json"), "131049", "131050")
	require.Equal(t, 200, b.hook(t, body).code)
	a := b.do(t, "GET", "/v1/suppressions?scope="+fixtureWABA, "", "")
	require.Equal(t, 200, a.code, a.raw)
	require.Contains(t, a.raw, `"to":"12125550123"`)
	require.Contains(t, a.raw, `"source":"webhook"`)
	require.Contains(t, a.raw, `"code":131050`)
	require.Equal(t, 404, b.do(t, "GET", "/v1/suppressions?scope=nosuch", "", "").code)
	require.Equal(t, 404, b.do(t, "GET", "/v1/suppressions?sender=nosuch", "", "").code)
	require.Equal(t, 400, b.do(t, "POST", "/v1/suppressions", "text/csv", "to\n441234567890\n").code, "the list must be named")
}

// A quality update with the current limit sets the messaging limit of the
// WABA's senders, shown by GET /v1/senders and /metrics.
func TestWebhooks_QualityUpdateSetsTheLimit(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	require.Equal(t, 200, b.hook(t, change("phone_number_quality_update",
		`{"display_phone_number":"15550783881","event":"UPGRADE","current_limit":"TIER_2K"}`)).code)
	a := b.do(t, "GET", "/v1/senders", "", "")
	require.Equal(t, 200, a.code)
	require.Contains(t, a.raw, `"messaging_limit_use":{"limit":2000,"reached":0}`)
	require.Contains(t, a.raw, `"state":"sending"`)
	requireMetric(t, b, `mmlite_messaging_limit{portfolio="default"} 2000`, `mmlite_messaging_limit_use{portfolio="default"} 0`,
		`mmlite_sender_paused{sender="default"} 0`)

	require.Equal(t, 404, b.do(t, "POST", "/v1/senders/nosuch/pause", "", "").code)
	a = b.do(t, "POST", "/v1/senders/default/pause", "", "")
	require.Equal(t, 200, a.code)
	require.Contains(t, a.raw, `"state":"paused"`)
	requireMetric(t, b, `mmlite_sender_paused{sender="default"} 1`)
	st, err := b.p.Store().Campaigns.Status(context.Background(), "spring-sale-2026")
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, st.State)
	require.True(t, strings.HasPrefix(st.PausedReason, "sender_paused: paused by the operator"), st.PausedReason)
}

// DISABLED pauses the template's campaigns with reason template_disabled.
func TestWebhooks_TemplateDisabled(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	require.Equal(t, 200, b.hook(t, change("message_template_status_update",
		`{"event":"DISABLED","message_template_name":"spring_sale","message_template_language":"pt_BR","reason":"POLICY"}`)).code)
	st, err := b.p.Store().Campaigns.Status(context.Background(), "spring-sale-2026")
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, st.State)
	require.Equal(t, "template_disabled: POLICY", st.PausedReason)
	requireMetric(t, b, `mmlite_webhook_events_total{status="DISABLED",type="template_update"} 1`)
}

// With on_fallback: pause, the first status priced marketing pauses its
// campaign; it is counted by sender either way.
func TestWebhooks_FallbackPauses(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	s := &sender.Sender{ID: "default", Rate: 80, Burst: 8, PhoneNumberID: "106540352242922", WABAID: fixtureWABA, OnFallback: sender.FallbackPause}
	require.NoError(t, registry.New(b.r.Client, b.r.Keys).Publish(context.Background(), []*sender.Sender{s}))
	fb := strings.ReplaceAll(fixture(t, "webhook_status_sent.json"), `"category": "marketing_lite"`, `"category": "marketing"`)
	require.Equal(t, 200, b.hook(t, fb).code)
	st, err := b.p.Store().Campaigns.Status(context.Background(), "spring-sale-2026")
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, st.State)
	require.True(t, strings.HasPrefix(st.PausedReason, "fallback: "), st.PausedReason)
	requireMetric(t, b, `mmlite_fallback_total{sender="default"} 1`)
}

// A throttled sender shows when its hold ends and its effective rate
// (GET /v1/senders reads the fleet's backoff).
func TestSenders_ShowTheThrottle(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	ctx := context.Background()
	now := time.Now()
	require.NoError(t, b.r.Client.HSet(ctx, b.r.Keys.Backoff("default"), "r0", 1, "at", now.UnixMilli(),
		"hold", now.Add(time.Hour).UnixMilli()).Err())
	a := b.do(t, "GET", "/v1/senders", "", "")
	require.Equal(t, 200, a.code, a.raw)
	var got struct {
		Senders []struct {
			ID             string    `json:"id"`
			Rate           float64   `json:"rate"`
			EffectiveRate  float64   `json:"effective_rate"`
			ThrottledUntil time.Time `json:"throttled_until"`
		} `json:"senders"`
	}
	require.NoError(t, json.Unmarshal([]byte(a.raw), &got))
	require.Len(t, got.Senders, 1)
	s := got.Senders[0]
	require.Greater(t, s.Rate, 1.0)
	require.GreaterOrEqual(t, s.EffectiveRate, 1.0, "the rate the throttle set, recovering")
	require.Less(t, s.EffectiveRate, s.Rate)
	require.Equal(t, now.Add(time.Hour).UnixMilli(), s.ThrottledUntil.UnixMilli())
}

// failPauseOnce fails the first campaign pause it sees (a transition
// script to "paused").
type failPauseOnce struct{ done atomic.Bool }

func (h *failPauseOnce) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *failPauseOnce) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		a := cmd.Args() // evalsha, sha, number of keys, the keys, then the target state
		if n, ok := a[min(2, len(a)-1)].(int); ok && cmd.Name() == "evalsha" && len(a) > 3+n && a[3+n] == "paused" &&
			h.done.CompareAndSwap(false, true) {
			cmd.SetErr(errors.New("ERR refused by the test"))
			return cmd.Err()
		}
		return next(ctx, cmd)
	}
}
func (h *failPauseOnce) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// A fallback pause that failed is made when the provider delivers the
// webhook again (found in review: the first delivery had marked the
// pricing seen, and the redelivery paused nothing).
func TestWebhooks_FallbackPauseSurvivesAFailure(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	s := &sender.Sender{ID: "default", Rate: 80, Burst: 8, PhoneNumberID: "106540352242922", WABAID: fixtureWABA, OnFallback: sender.FallbackPause}
	require.NoError(t, registry.New(b.r.Client, b.r.Keys).Publish(context.Background(), []*sender.Sender{s}))
	cl, ok := b.r.Client.(*redis.Client)
	if !ok {
		t.Skip("needs a single-node Redis client to hook")
	}
	cl.AddHook(&failPauseOnce{})
	fb := strings.ReplaceAll(fixture(t, "webhook_status_sent.json"), `"category": "marketing_lite"`, `"category": "marketing"`)
	require.Equal(t, 500, b.hook(t, fb).code, "the pause failed: the provider will deliver again")
	require.Equal(t, 200, b.hook(t, fb).code)
	st, err := b.p.Store().Campaigns.Status(context.Background(), "spring-sale-2026")
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, st.State, "paused by the redelivery")
	requireMetric(t, b, `mmlite_fallback_total{sender="default"} 1`)
}

// Two template events of a template delivered at once (two deliveries in
// flight, or an answer 132015 to a send) each record their time before
// they act: the older one, its time recorded first, acts after the newer
// one. Its action does nothing then, so that the campaign is left as the
// newer event says (found in review: a PAUSED acted on after a newer
// REINSTATED left the campaign paused with nothing left to resume it, and
// a REINSTATED acted on after a newer PAUSED or an answer 132015 resumed
// it while the template was paused).
func TestWebhooks_TemplateEventsAtOnce(t *testing.T) {
	t.Parallel()
	tmpl := func(at int64, event string) string {
		return changeAt(at, "message_template_status_update", `{"event":"`+event+
			`","message_template_id":1,"message_template_name":"spring_sale","message_template_language":"pt_BR","reason":null}`)
	}
	answer := func(t *testing.T, b *bundle, at int64) {
		g := guard.New(b.r.Client, b.p.Store(), guard.Config{}).WithClock(func() time.Time { return time.Unix(at, 0) })
		_, err := g.PauseTemplateOf(context.Background(), "spring-sale-2026", fixtureWABA, "spring_sale", "pt_BR",
			guard.TemplateReason(132015, "Template paused"))
		require.NoError(t, err)
	}
	for _, c := range []struct {
		name, first string
		meanwhile   func(t *testing.T, b *bundle) // a newer event, acted on between the first's time check and its action
		want        campaign.State
	}{
		{"older PAUSED", tmpl(1764064000, "PAUSED"), func(t *testing.T, b *bundle) {
			require.Equal(t, 200, b.hook(t, tmpl(1764064060, "REINSTATED")).code)
		}, campaign.StateRunning},
		{"older REINSTATED", tmpl(1764064000, "REINSTATED"), func(t *testing.T, b *bundle) {
			require.Equal(t, 200, b.hook(t, tmpl(1764064060, "PAUSED")).code)
		}, campaign.StatePaused},
		{"REINSTATED older than an answer", tmpl(1764064000, "REINSTATED"), func(t *testing.T, b *bundle) {
			answer(t, b, 1764064060)
		}, campaign.StatePaused},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := hookSetup(t, nil)
			// Another template's event first, so that the time check's
			// script is loaded: the hook below runs after the check itself.
			require.Equal(t, 200, b.hook(t, strings.ReplaceAll(tmpl(1764060000, "REINSTATED"), "spring_sale", "other")).code)
			b.r.Client.AddHook(&redistest.AfterFirst{Name: "evalsha", Arg: b.r.Keys.GuardEvent("template:" + fixtureWABA + "\x1fspring_sale\x1fpt_BR"),
				Fn: func() { c.meanwhile(t, b) }})
			require.Equal(t, 200, b.hook(t, c.first).code)
			st, err := b.p.Store().Campaigns.Status(ctx, "spring-sale-2026")
			require.NoError(t, err)
			require.Equal(t, c.want, st.State, st.PausedReason)
		})
	}
}

// The campaigns the api's guard pauses are counted in
// mmlite_campaigns_paused_total by reason, as the workers' are: a template
// event, a failed status that stops the sender, the fallback guard; an
// operator's sender pause counts as operator, so that
// MMLiteCampaignAutoPaused does not take it for a pause of its own (found
// in review: no pause made from a webhook was counted, and reason
// fallback never was).
func TestWebhooks_GuardPausesAreCounted(t *testing.T) {
	t.Parallel()
	paused := func(reason string, n int) string {
		return fmt.Sprintf(`mmlite_campaigns_paused_total{reason=%q} %d`, reason, n)
	}
	t.Run("template", func(t *testing.T) {
		t.Parallel()
		b := hookSetup(t, nil)
		require.Equal(t, 200, b.hook(t, change("message_template_status_update",
			`{"event":"DISABLED","message_template_name":"spring_sale","message_template_language":"pt_BR","reason":"POLICY"}`)).code)
		requireMetric(t, b, paused("template_disabled", 1), paused("template_paused", 0))
	})
	t.Run("sender", func(t *testing.T) {
		t.Parallel()
		b := hookSetup(t, nil)
		body := strings.ReplaceAll(fixture(t, "webhook_status_failed.json"), "131049", "131042")
		require.Equal(t, 200, b.hook(t, body).code)
		requireMetric(t, b, paused("sender_paused", 1), paused("operator", 0))
	})
	t.Run("fallback", func(t *testing.T) {
		t.Parallel()
		b := hookSetup(t, nil)
		s := &sender.Sender{ID: "default", Rate: 80, Burst: 8, PhoneNumberID: "106540352242922", WABAID: fixtureWABA, OnFallback: sender.FallbackPause}
		require.NoError(t, registry.New(b.r.Client, b.r.Keys).Publish(context.Background(), []*sender.Sender{s}))
		fb := strings.ReplaceAll(fixture(t, "webhook_status_sent.json"), `"category": "marketing_lite"`, `"category": "marketing"`)
		require.Equal(t, 200, b.hook(t, fb).code)
		requireMetric(t, b, paused("fallback", 1))
	})
	t.Run("operator's sender pause", func(t *testing.T) {
		t.Parallel()
		b := hookSetup(t, nil)
		require.Equal(t, 200, b.do(t, "POST", "/v1/senders/default/pause", "", "").code)
		requireMetric(t, b, paused("operator", 1), paused("sender_paused", 0))
	})
}
