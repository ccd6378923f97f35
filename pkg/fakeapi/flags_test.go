package fakeapi

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseErrorRules(t *testing.T) {
	tests := []struct {
		in   string
		want []ErrorRule
		err  string
	}{
		{in: "", want: nil},
		{in: "130429:0.05,131000:0.01,http502:0.01,-:0.005:hang", want: []ErrorRule{
			{Share: 0.05, Code: 130429}, {Share: 0.01, Code: 131000}, {Share: 0.01, HTTPStatus: 502}, {Share: 0.005, Action: ActionHang},
		}},
		{in: " http500:0.1 , http503:0.1,http429:0.1,-:0.01:reset", want: []ErrorRule{
			{Share: 0.1, HTTPStatus: 500}, {Share: 0.1, HTTPStatus: 503}, {Share: 0.1, HTTPStatus: 429}, {Share: 0.01, Action: ActionReset},
		}},
		{in: "131026:1", want: []ErrorRule{{Share: 1, Code: 131026}}},
		{in: "131026", err: `error rule 1 ("131026"): want CODE:SHARE`},
		{in: "1:0.1,131026:x", err: `error rule 2 ("131026:x"): share must be a number between 0 and 1`},
		{in: "131026:1.5", err: "share must be a number between 0 and 1"},
		{in: "abc:0.1", err: `error rule 1 ("abc:0.1"): code must be a positive Meta error code`},
		{in: "0:0.1", err: "code must be a positive"},
		{in: "http200:0.1", err: "not an HTTP error status"},
		{in: "httpx:0.1", err: "not an HTTP error status"},
		{in: "-:0.1", err: "code - needs an action"},
		{in: "-:0.1:explode", err: `action must be "reset" or "hang"`},
		{in: "131000:0.1:reset", err: "takes - as its code"},
		{in: "1:0.1:reset:x", err: "want CODE:SHARE"},
		{in: "1:0.6,2:0.6", err: "shares add up to 1.2"},
		{in: "1:0.1,", err: `error rule 2 ("")`},
	}
	for _, tc := range tests {
		got, err := ParseErrorRules(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
		_, err = New(Config{Errors: got})
		require.NoError(t, err, tc.in)
	}
}

func TestParseFailRecipients(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]int
		err  string
	}{
		{in: "", want: nil},
		{in: "441234567890=131026", want: map[string]int{"441234567890": 131026}},
		{in: "441234567890=131026, 12125550123 = 131049", want: map[string]int{"441234567890": 131026, "12125550123": 131049}},
		{in: "441234567890", err: `fail recipient 1 ("441234567890"): want TO=CODE`},
		{in: "=131026", err: "want TO=CODE"},
		{in: "+441234567890=131026", err: "digits only"},
		{in: "441234567890=abc", err: "code must be a positive Meta error code"},
		{in: "441234567890=0", err: "code must be a positive"},
		{in: "441234567890=1,441234567890=2", err: "listed twice"},
	}
	for _, tc := range tests {
		got, err := ParseFailRecipients(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}
