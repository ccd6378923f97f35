package fakeapi

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestControlConfigRoundTrip(t *testing.T) {
	f := newFake(t, Config{Keys: []string{"a"}})
	r := f.do(t, http.MethodGet, "/_fake/config", nil, "")
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "application/json", r.header.Get("Content-Type"))
	require.JSONEq(t, `{"keys":["a"]}`, string(r.body))

	put := `{"keys":["x","y"],"templates":["t1"],"latency":"5ms","latency_jitter":2,"errors":[{"share":0.25,"code":131000},{"share":0.1,"http_status":502},{"share":0.01,"action":"hang"}],
		"rate_limit":80,"rate_burst":10,"fail_recipients":{"441234567890":131026},"webhook_url":"http://127.0.0.1:1/hook","webhook_secret":"s","app_secret":"a",
		"webhook_delay":"50ms","delivered_share":0.9,"read_share":0.5,"pricing_category":"marketing","phone_number_id":"1","display_phone_number":"2","waba_id":"3","seed":42}`
	r = f.do(t, http.MethodPut, "/_fake/config", map[string]string{"Content-Type": "application/json"}, put)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)

	want := Config{
		Keys: []string{"x", "y"}, Templates: []string{"t1"},
		Latency: Duration(5 * time.Millisecond), LatencyJitter: Duration(2 * time.Millisecond),
		Errors:    []ErrorRule{{Share: 0.25, Code: 131000}, {Share: 0.1, HTTPStatus: 502}, {Share: 0.01, Action: ActionHang}},
		RateLimit: 80, RateBurst: 10, FailRecipients: map[string]int{"441234567890": 131026},
		WebhookURL: "http://127.0.0.1:1/hook", WebhookSecret: "s", AppSecret: "a", WebhookDelay: Duration(50 * time.Millisecond),
		DeliveredShare: ptr(0.9), ReadShare: ptr(0.5), PricingCategory: "marketing",
		PhoneNumberID: "1", DisplayPhoneNumber: "2", WABAID: "3", Seed: 42,
	}
	require.Equal(t, want, f.Config())

	r = f.do(t, http.MethodGet, "/_fake/config", nil, "")
	var got Config
	require.NoError(t, json.Unmarshal(r.body, &got))
	require.Equal(t, want, got)
	require.Contains(t, string(r.body), `"latency": "5ms"`)

	// The new keys apply at once.
	require.Equal(t, http.StatusUnauthorized, f.send360(t, "a", body(t, "441234567899", nil)).status)
}

func TestControlConfigRejectsInvalid(t *testing.T) {
	f := newFake(t, Config{Keys: []string{"a"}})
	for body, want := range map[string]string{
		`{"errors":[{"share":0.5,"code":1},{"share":1.5,"code":2}]}`: "errors[1].share must be between 0 and 1, got 1.5",
		`{"errors":[{"share":0.6,"code":1},{"share":0.6,"code":2}]}`: "errors shares add up to 1.2, must be at most 1",
		`{"rate_limit":-1}`:         "rate_limit must be a finite number >= 0, got -1",
		`{"latency":"soon"}`:        "invalid duration",
		`{"nope":1}`:                "unknown field",
		`{"keys":["a"]} {}`:         "unexpected data",
		`[]`:                        "the config is not valid JSON",
		`{"webhook_url":"ftp://x"}`: "webhook_url",
	} {
		r := f.do(t, http.MethodPut, "/_fake/config", map[string]string{"Content-Type": "application/json"}, body)
		require.Equal(t, http.StatusBadRequest, r.status, body)
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
		var e struct{ Error string }
		require.NoError(t, json.Unmarshal(r.body, &e))
		require.Contains(t, e.Error, want, body)
	}
	require.Equal(t, Config{Keys: []string{"a"}}, f.Config(), "an invalid config changes nothing")
}

func TestControlStatsAndReset(t *testing.T) {
	f := newFake(t, Config{})
	require.Equal(t, http.StatusOK, f.send360(t, testKey, body(t, "441234567890", nil)).status)
	r := f.do(t, http.MethodGet, "/_fake/stats", nil, "")
	require.Equal(t, http.StatusOK, r.status)
	var st Stats
	require.NoError(t, json.Unmarshal(r.body, &st))
	require.EqualValues(t, 1, st.Requests)
	require.EqualValues(t, 1, st.Accepted)
	require.Equal(t, 1, st.Recipients)

	r = f.do(t, http.MethodPost, "/_fake/reset", nil, "")
	require.Equal(t, http.StatusOK, r.status)
	require.Zero(t, f.Stats().Requests)
	require.Empty(t, f.Requests())

	for _, c := range []struct{ method, path, allow string }{
		{http.MethodDelete, "/_fake/config", "GET, PUT"},
		{http.MethodPost, "/_fake/stats", "GET"},
		{http.MethodGet, "/_fake/reset", "POST"},
	} {
		r := f.do(t, c.method, c.path, nil, "")
		require.Equal(t, http.StatusMethodNotAllowed, r.status, c.path)
		require.Equal(t, c.allow, r.header.Get("Allow"))
	}
}
