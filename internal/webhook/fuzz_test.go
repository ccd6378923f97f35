package webhook_test

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/stretchr/testify/require"
)

// FuzzParse: any body is parsed or refused without a panic; what is parsed
// can be recorded (every status names a message and a status, every time
// can be encoded) and is exactly what a webhook rebuilt from it says.
// The seeds (testdata/fuzz/FuzzParse) are the fixtures and edge cases.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := webhook.Parse(body)
		if err != nil {
			require.Nil(t, ev)
			return
		}
		require.True(t, json.Valid(body), "a body that is not JSON is refused")
		require.Equal(t, byte('{'), bytes.TrimLeft(body, " \t\r\n")[0], "a body that is not an object is refused")
		for _, st := range ev.Statuses {
			require.NotEmpty(t, st.WAMID, "a status without a message id is other")
			require.NotEmpty(t, st.Status, "a status without a status is other")
			requireTime(t, st.Timestamp)
		}
		for _, c := range ev.Clicks {
			requireTime(t, c.Timestamp)
		}
		for _, a := range ev.Accounts {
			requireTime(t, a.Timestamp)
		}
		require.GreaterOrEqual(t, ev.Other, 0)
		n := len(ev.Statuses) + len(ev.Clicks) + len(ev.Accounts) + ev.Other
		require.LessOrEqual(t, 2*n, len(body), "every event takes at least {} of the body")
		_, err = json.Marshal(ev)
		require.NoError(t, err, "the events can be written into tasks")

		again, err := webhook.Parse(rebuild(t, ev))
		require.NoError(t, err)
		// The rebuilt webhook writes each "other" change under a field of
		// its own: the events match, their kinds need not.
		ev.Kinds, again.Kinds = nil, nil
		require.Equal(t, ev, again)
	})
}

// requireTime checks that a time is unknown (zero) or one JSON can carry.
func requireTime(t *testing.T, at time.Time) {
	t.Helper()
	if at.IsZero() {
		return
	}
	require.Equal(t, time.UTC, at.Location())
	require.True(t, at.Unix() > 0 && at.Year() <= 9999, "time %v", at)
}

// rebuild writes events as a webhook in Meta's envelope, one change each.
func rebuild(t *testing.T, ev *webhook.Events) []byte {
	t.Helper()
	type obj = map[string]any
	secs := func(at time.Time) string {
		if at.IsZero() {
			return ""
		}
		return strconv.FormatInt(at.Unix(), 10)
	}
	var entries []obj
	change := func(field string, value obj) {
		entries = append(entries, obj{"changes": []obj{{"field": field, "value": value}}})
	}
	for _, s := range ev.Statuses {
		st := obj{"id": s.WAMID, "status": s.Status, "timestamp": secs(s.Timestamp), "recipient_id": s.RecipientID}
		if s.PricingCategory != "" {
			st["pricing"] = obj{"category": s.PricingCategory}
		}
		if s.Error != nil {
			st["errors"] = []obj{{"code": s.Error.Code, "title": s.Error.Title, "error_data": obj{"details": s.Error.Details}}}
		}
		change("messages", obj{"metadata": obj{"phone_number_id": s.PhoneNumberID}, "statuses": []obj{st}})
	}
	for _, c := range ev.Clicks {
		change("messages", obj{"metadata": obj{"phone_number_id": c.PhoneNumberID}, "user_actions": []obj{{
			"action_type": "marketing_messages_link_click", "timestamp": secs(c.Timestamp),
			"marketing_messages_link_click_data": obj{"click_component": c.Component, "click_id": c.ClickID, "tracking_token": c.TrackingToken}}}})
	}
	for _, a := range ev.Accounts {
		var at int64
		if !a.Timestamp.IsZero() {
			at = a.Timestamp.Unix()
		}
		entries = append(entries, obj{"id": a.WABAID, "time": at, "changes": []obj{{"field": "account_update",
			"value": obj{"event": a.Event, "waba_info": obj{"owner_business_id": a.OwnerBusinessID}}}}})
	}
	for range ev.Other {
		change("message_template_status_update", obj{})
	}
	b, err := json.Marshal(obj{"object": "whatsapp_business_account", "entry": entries})
	require.NoError(t, err)
	return b
}
