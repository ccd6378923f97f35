package webhook_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/stretchr/testify/require"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "fixtures", name))
	require.NoError(t, err)
	return b
}

func TestParse_Fixtures(t *testing.T) {
	t.Parallel()
	ev, err := webhook.Parse(fixture(t, "webhook_status_sent.json"))
	require.NoError(t, err)
	require.Equal(t, []webhook.Status{{WAMID: "wamid.HBgLNTk4OTQ3MTQ0NjMVAgARGBJDNjM1NUM2OEEyMDU4REZERTgA", Status: "sent",
		Timestamp: time.Unix(1764064800, 0).UTC(), RecipientID: "441234567890", PricingCategory: "marketing_lite",
		PhoneNumberID: "106540352242922"}}, ev.Statuses)

	ev, err = webhook.Parse(fixture(t, "webhook_status_delivered_read_batch.json"))
	require.NoError(t, err)
	require.Len(t, ev.Statuses, 2)
	require.Equal(t, "delivered", ev.Statuses[0].Status)
	require.Equal(t, "read", ev.Statuses[1].Status)
	require.Empty(t, ev.Statuses[1].PricingCategory)

	ev, err = webhook.Parse(fixture(t, "webhook_status_failed.json"))
	require.NoError(t, err)
	require.Equal(t, &webhook.Error{Code: 131049, Title: "This message was not delivered to maintain healthy ecosystem engagement.",
		Details: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."}, ev.Statuses[0].Error)

	ev, err = webhook.Parse(fixture(t, "webhook_click.json"))
	require.NoError(t, err)
	require.Empty(t, ev.Statuses)
	require.Equal(t, []webhook.Click{{PhoneNumberID: "106540352242922", ClickID: "ARAkCl0sGIvc", TrackingToken: "spring-sale-2026",
		Component: "cta", Timestamp: time.Unix(1764064950, 0).UTC()}}, ev.Clicks)

	ev, err = webhook.Parse(fixture(t, "webhook_account_update_mm_lite_terms_signed.json"))
	require.NoError(t, err)
	require.Equal(t, []webhook.AccountUpdate{{Event: webhook.OnboardedEvent, WABAID: "102290129340398",
		OwnerBusinessID: "2729063490586005", Timestamp: time.Unix(1764064000, 0).UTC()}}, ev.Accounts)
}

func TestParse_Tolerant(t *testing.T) {
	t.Parallel()
	ev, err := webhook.Parse([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
		{"field":"messages","value":{"messages":[{"from":"1","type":"text"}]}},
		{"field":"message_template_status_update","value":{"event":"APPROVED"}},
		{"field":"messages","value":{"user_actions":[{"action_type":"something_new"}]}},
		{"field":"messages","value":{"statuses":[{"id":"w","status":"sent","timestamp":"x","new_field":1}]}}]}],"extra":true}`))
	require.NoError(t, err)
	require.Equal(t, 3, ev.Other)
	require.Len(t, ev.Statuses, 1)
	require.True(t, ev.Statuses[0].Timestamp.IsZero())
	for _, bad := range []string{`not json`, `[1]`, `{"entry": [}`} {
		_, err := webhook.Parse([]byte(bad))
		require.Error(t, err, bad)
	}
	ev, err = webhook.Parse([]byte(`{}`))
	require.NoError(t, err)
	require.Zero(t, ev.Other)
}

func TestAuth(t *testing.T) {
	t.Parallel()
	require.True(t, webhook.SecretOK("s", "s"))
	require.False(t, webhook.SecretOK("s", "S"))
	require.False(t, webhook.SecretOK("", ""))
	body := []byte(`{"a":1}`)
	sig := webhook.Sign("app", body)
	require.True(t, webhook.SignatureOK("app", body, sig))
	require.False(t, webhook.SignatureOK("app", []byte(`{"a":2}`), sig))
	require.False(t, webhook.SignatureOK("other", body, sig))
	require.False(t, webhook.SignatureOK("app", body, sig[7:]))
	require.False(t, webhook.SignatureOK("app", body, "sha256=zz"))
	require.False(t, webhook.SignatureOK("", body, sig))
}

// A status names a message and what happened to it; one without either
// cannot be recorded, so it is counted as other.
func TestParse_StatusWithoutIDOrStatusIsOther(t *testing.T) {
	t.Parallel()
	ev, err := webhook.Parse([]byte(`{"entry":[{"changes":[{"field":"messages","value":{"statuses":[
		{"status":"sent"},{"id":"wamid.1"},{"id":"","status":""},{"id":"wamid.2","status":"read"}]}}]}]}`))
	require.NoError(t, err)
	require.Len(t, ev.Statuses, 1)
	require.Equal(t, "wamid.2", ev.Statuses[0].WAMID)
	require.Equal(t, 3, ev.Other)
}

// Times past year 9999 cannot be written as JSON (RFC 3339): they are
// unknown, as unreadable ones are, so that every event can be encoded.
func TestParse_TimestampOutOfRange(t *testing.T) {
	t.Parallel()
	ev, err := webhook.Parse([]byte(`{"entry":[{"id":"1","time":253402300800,"changes":[
		{"field":"messages","value":{"statuses":[{"id":"w","status":"sent","timestamp":"253402300800"},
			{"id":"w","status":"read","timestamp":"253402300799"}],
			"user_actions":[{"action_type":"marketing_messages_link_click","timestamp":"9223372036854775807"}]}},
		{"field":"account_update","value":{"event":"MM_LITE_TERMS_SIGNED"}}]}]}`))
	require.NoError(t, err)
	require.True(t, ev.Statuses[0].Timestamp.IsZero())
	require.Equal(t, 9999, ev.Statuses[1].Timestamp.Year())
	require.True(t, ev.Clicks[0].Timestamp.IsZero())
	require.True(t, ev.Accounts[0].Timestamp.IsZero())
	_, err = json.Marshal(ev)
	require.NoError(t, err)
}

func TestParse_NotAnObject(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`null`, ` null `, `"x"`, `5`, ``} {
		_, err := webhook.Parse([]byte(body))
		require.Error(t, err, body)
	}
}

// The kinds a relay destination chooses from: a change's field, or for
// "messages" what its value holds.
func TestParse_Kinds(t *testing.T) {
	t.Parallel()
	kinds := func(b []byte) map[string]bool {
		ev, err := webhook.Parse(b)
		require.NoError(t, err)
		return ev.Kinds
	}
	statusBody := `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.X","status":"sent"}]}}]}]}`
	inboundBody := `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"from":"441234567890","type":"text","text":{"body":"hi"}}]}}]}]}`
	require.Equal(t, map[string]bool{"statuses": true}, kinds([]byte(statusBody)))
	require.Equal(t, map[string]bool{"messages": true}, kinds([]byte(inboundBody)))
	b, err := os.ReadFile("../../testdata/fixtures/webhook_account_update_mm_lite_terms_signed.json")
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"account_update": true}, kinds(b))
	require.True(t, strings.Contains(string(b), "account_update"))
}

// A field of another type than the docs show (a time or an id as a
// number, a code as a string, an object for a string) is read as far as it
// can be; it refused the whole webhook, its other statuses and its relay.
func TestParse_FieldsOfAnotherType(t *testing.T) {
	t.Parallel()
	body := `{"object":"whatsapp_business_account","entry":[
{"id":102290129340398,"time":"1764064800","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":106540352242922},
"statuses":[
 {"id":"wamid.A","status":"delivered","timestamp":1764064805,"recipient_id":441234567890},
 {"id":"wamid.B","status":"failed","timestamp":"1764064806","recipient_id":"441234567891","errors":[{"code":"131050","title":{"x":1}}]},
 {"id":"wamid.C","status":"read","timestamp":1.5e9,"recipient_id":null,"errors":[{"code":1e99}]}]}}]},
{"id":"102290129340398","time":1764064900.5,"changes":[{"field":"account_update","value":{"event":"MM_LITE_TERMS_SIGNED","waba_info":{"waba_id":102290129340398}}}]}]}`
	ev, err := webhook.Parse([]byte(body))
	require.NoError(t, err)
	require.Len(t, ev.Statuses, 3)
	require.Equal(t, int64(1764064805), ev.Statuses[0].Timestamp.Unix())
	require.Equal(t, "441234567890", ev.Statuses[0].RecipientID)
	require.Equal(t, "106540352242922", ev.Statuses[0].PhoneNumberID)
	require.Equal(t, 131050, ev.Statuses[1].Error.Code)
	require.Equal(t, "", ev.Statuses[1].Error.Title, "an object is no title")
	require.True(t, ev.Statuses[2].Timestamp.IsZero(), "a time it cannot read is unknown")
	require.Equal(t, 0, ev.Statuses[2].Error.Code)
	require.Len(t, ev.Accounts, 1)
	require.Equal(t, "102290129340398", ev.Accounts[0].WABAID)
}

// An object or a list of another type (a string, a number, null where the
// docs show an object or a list, or a list element that is no object)
// makes what it holds unknown; it refused the whole webhook, its other statuses and its
// relay (found in review: a 400, which providers do not deliver again).
func TestParse_ObjectsOfAnotherType(t *testing.T) {
	t.Parallel()
	body := `{"object":"whatsapp_business_account","entry":[
{"id":"102290129340398","time":"1764064800","changes":[{"field":"messages","value":{"metadata":"106540352242922",
"statuses":[
 {"id":"wamid.A","status":"delivered","timestamp":"1764064805","recipient_id":"441234567890","pricing":"marketing_lite"},
 {"id":"wamid.B","status":"failed","timestamp":"1764064806","recipient_id":"441234567891","pricing":7,
  "errors":[{"code":131050,"title":"Stopped","error_data":"nothing"}, "more"]},
 "a status that is no object"]}}]},
{"id":"102290129340398","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"106540352242922"},
"user_actions":[{"action_type":"marketing_messages_link_click","timestamp":"1764064810","marketing_messages_link_click_data":[1]}]}},
 {"field":"account_update","value":{"event":"MM_LITE_TERMS_SIGNED","waba_info":"102290129340398","ban_info":4}},
 {"field":"messages","value":"a value that is no object"}, 12]},
"an entry that is no object"]}`
	ev, err := webhook.Parse([]byte(body))
	require.NoError(t, err)
	require.Len(t, ev.Statuses, 2)
	require.Equal(t, "wamid.A", ev.Statuses[0].WAMID)
	require.Equal(t, "", ev.Statuses[0].PhoneNumberID, "metadata of another type: unknown")
	require.Equal(t, "", ev.Statuses[0].PricingCategory)
	require.Equal(t, 131050, ev.Statuses[1].Error.Code)
	require.Equal(t, "Stopped", ev.Statuses[1].Error.Title)
	require.Equal(t, "", ev.Statuses[1].Error.Details)
	require.Len(t, ev.Clicks, 1)
	require.Equal(t, "106540352242922", ev.Clicks[0].PhoneNumberID)
	require.Equal(t, "", ev.Clicks[0].ClickID)
	require.Len(t, ev.Accounts, 1)
	require.Equal(t, "102290129340398", ev.Accounts[0].WABAID, "the entry's id stands in for waba_info")
	require.Positive(t, ev.Other, "the status that is no object, the value that is none")

	for _, notList := range []string{`{"entry":"x"}`, `{"entry":[{"changes":{}}]}`, `{"entry":[{"changes":[{"value":{"statuses":"x"}}]}]}`} {
		ev, err := webhook.Parse([]byte(notList))
		require.NoError(t, err, "a list that is no list is unknown too: %s", notList)
		require.Empty(t, ev.Statuses)
	}
}
