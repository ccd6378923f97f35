package fakeapi

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{Errors: []ErrorRule{{Share: 0.1, Code: 1}, {Share: 1.5, Code: 2}}}, "errors[1].share must be between 0 and 1, got 1.5"},
		{Config{Errors: []ErrorRule{{Share: math.NaN(), Code: 1}}}, "errors[0].share"},
		{Config{Errors: []ErrorRule{{Share: 0.7, Code: 1}, {Share: 0.7, Code: 2}}}, "errors shares add up to 1.4"},
		{Config{Errors: []ErrorRule{{Share: 0.1, Action: "explode"}}}, `errors[0].action must be "", "reset" or "hang", got "explode"`},
		{Config{Errors: []ErrorRule{{Share: 0.1}}}, "errors[0] needs a code, an http_status or an action"},
		{Config{Errors: []ErrorRule{{Share: 0.1, HTTPStatus: 200}}}, "errors[0].http_status"},
		{Config{Errors: []ErrorRule{{Share: 0.1, Code: -4}}}, "errors[0].code"},
		{Config{RateLimit: -1}, "rate_limit"},
		{Config{RateLimit: math.Inf(1)}, "rate_limit"},
		{Config{RateBurst: -1}, "rate_burst"},
		{Config{Keys: []string{"a", ""}}, "keys[1]"},
		{Config{Templates: []string{""}}, "templates[0]"},
		{Config{Latency: -1}, "latency"},
		{Config{LatencyJitter: -1}, "latency_jitter"},
		{Config{WebhookDelay: -1}, "webhook_delay"},
		{Config{WebhookURL: "://bad"}, "webhook_url"},
		{Config{WebhookURL: "localhost:8080"}, "webhook_url"},
		{Config{DeliveredShare: ptr(1.1)}, "delivered_share"},
		{Config{ReadShare: ptr(-0.1)}, "read_share"},
		{Config{FailRecipients: map[string]int{"441234567890": 0}}, "fail_recipients"},
		{Config{FailRecipients: map[string]int{"": 131026}}, "fail_recipients"},
	}
	for _, tc := range tests {
		_, err := New(tc.cfg)
		require.ErrorContains(t, err, tc.want)
	}
	s, err := New(Config{})
	require.NoError(t, err)
	require.Error(t, s.SetConfig(Config{RateLimit: -1}))
	require.Equal(t, Config{}, s.Config())
}

func TestConfigIsCopied(t *testing.T) {
	keys := []string{"a"}
	s, err := New(Config{Keys: keys, ReadShare: ptr(0.5)})
	require.NoError(t, err)
	keys[0] = "b"
	c := s.Config()
	require.Equal(t, []string{"a"}, c.Keys)
	*c.ReadShare = 0.9
	require.Equal(t, 0.5, *s.Config().ReadShare)
}

func TestDurationJSON(t *testing.T) {
	for in, want := range map[string]time.Duration{
		`"150ms"`: 150 * time.Millisecond,
		`"2s"`:    2 * time.Second,
		`150`:     150 * time.Millisecond,
		`1.5`:     1500 * time.Microsecond,
		`null`:    0,
	} {
		var d Duration
		require.NoError(t, json.Unmarshal([]byte(in), &d), in)
		require.Equal(t, want, time.Duration(d), in)
	}
	for _, in := range []string{`"soon"`, `true`, `{}`, `1e300`} {
		var d Duration
		require.Error(t, json.Unmarshal([]byte(in), &d), in)
	}
	b, err := json.Marshal(Config{Latency: Duration(150 * time.Millisecond)})
	require.NoError(t, err)
	require.JSONEq(t, `{"latency":"150ms"}`, string(b))
}
