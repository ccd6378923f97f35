package campaign_test

import (
	"testing"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/stretchr/testify/require"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	c, err := campaign.Decode([]byte(`{"id": "a", "template": {"name": "t", "language": {"code": "en"}}}`))
	require.NoError(t, err)
	require.Equal(t, "a", c.ID)
	cases := map[string]string{
		"{\n  \"id\": \"a\",\n  \"colour\": 1\n}":            `line 3, column 3: unknown field "colour"`,
		"{\n  \"id\": 5\n}":                                  "line 2, column 10: id: want string, got number",
		"{\n  \"id\": \"a\",,\n}":                            "line 2, column 13: invalid JSON",
		`{"id": "a"`:                                         "ends too early",
		`{"id": "a"} {}`:                                     "more than one JSON value",
		`{"send_at": "tomorrow"}`:                            "line 1",
		"{\"message_send_ttl_seconds\": \"1d\"}":             "message_send_ttl_seconds: want int",
		`{"template": {"components": [{"parameters": []}]}}`: `missing "type"`,
	}
	for in, want := range cases {
		_, err := campaign.Decode([]byte(in))
		require.ErrorContains(t, err, want, in)
	}
}
