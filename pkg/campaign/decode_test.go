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
		"{\n  \"id\": \"a\",\n  \"colour\": 1\n}": `line 3, column 3: unknown field "colour"`,
		// An unknown key named like a known one elsewhere (a nested key, a
		// value) is placed where it is, with its path.
		"{\n  \"id\": \"spring\",\n  \"template\": {\"name\": \"spring_sale\", \"language\": {\"code\": \"en\"}},\n  \"name\": \"Spring sale\"\n}": `line 4, column 3: unknown field "name"`,
		"{\"id\": \"a\",\n \"template\": {\"name\": \"t\", \"langauge\": {\"code\": \"en\"}}}":                                                     `line 2, column 28: template: unknown field "langauge"`,
		// A time that is not RFC 3339 with a zone names its field.
		`{"id": "a", "send_at": "2026-12-24T09:00:00"}`:      `send_at: want an RFC 3339 time with a time zone: YYYY-MM-DDThh:mm:ssZ (UTC) or YYYY-MM-DDThh:mm:ss+02:00, got "2026-12-24T09:00:00"`,
		`{"id": "a", "expires_at": 1796306544}`:              `expires_at: want an RFC 3339 time with a time zone: YYYY-MM-DDThh:mm:ssZ (UTC) or YYYY-MM-DDThh:mm:ss+02:00, got 1796306544`,
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

// A key repeated in one object took its last value, and a key matching a
// field only when case is ignored was read as that field: both are refused,
// naming the key and where it is.
func TestDecode_RepeatedAndCaseOnlyKeys(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`{"id": "a", "id": "b", "template": {"name": "t", "language": {"code": "en"}}}`:                                          `line 1, column 13: "id" appears twice`,
		`{"id": "a", "template": {"name": "t", "name": "u", "language": {"code": "en"}}}`:                                        `line 1, column 39: template: "name" appears twice`,
		`{"id": "a", "template": {"name": "t", "language": {"code": "en", "code": "fr"}}}`:                                       `template.language: "code" appears twice`,
		`{"id": "a", "template": {"name": "t", "language": {"code": "en"}, "components": [{"type": "body", "type": "header"}]}}`: `template.components[0]: "type" appears twice`,
		`{"ID": "a", "template": {"name": "t", "language": {"code": "en"}}}`:                                                     `line 1, column 2: unknown field "ID"`,
		`{"id": "a", "Template": {"name": "t", "language": {"code": "en"}}}`:                                                     `unknown field "Template"`,
		`{"id": "a", "template": {"name": "t", "language": {"Code": "en"}}}`:                                                     `template.language: unknown field "Code"`,
		`{"id": "a", "template": {"name": "t", "language": {"code": "en"}, "components": [{"Type": "body"}]}}`:                   `template.components[0]: unknown field "Type"`,
		`{"id": "a", "template": {"name": "t", "language": {"code": "en"}}, "send_AT": "2026-01-01T00:00:00Z"}`:                  `unknown field "send_AT"`,
		`{"id": "a", "\u0069d": "b", "template": {"name": "t", "language": {"code": "en"}}}`:                                     `"id" appears twice`,
	}
	for in, want := range cases {
		_, err := campaign.Decode([]byte(in))
		require.ErrorContains(t, err, want, in)
	}
}

// A campaign file saved with a BOM (Windows editors) is read as the
// recipient files are.
func TestDecode_BOM(t *testing.T) {
	t.Parallel()
	c, err := campaign.Decode([]byte("\xEF\xBB\xBF" + `{"id": "a", "template": {"name": "t", "language": {"code": "en"}}}`))
	require.NoError(t, err)
	require.Equal(t, "a", c.ID)
	_, err = campaign.Decode([]byte("\xEF\xBB\xBF{\n  \"id\": 5\n}"))
	require.ErrorContains(t, err, "line 2, column 10: id: want string", "positions count from after the BOM")
}

// encoding/json replaces bytes that are not UTF-8 with U+FFFD: the
// customer would get "caf\ufffd". Such a campaign is refused, naming the field.
func TestDecode_InvalidUTF8(t *testing.T) {
	t.Parallel()
	in := `{"id": "a", "template": {"name": "t", "language": {"code": "en"}, "components": [{"type": "body", "parameters": [{"type": "text", "text": "caf` + "\xe9" + `"}]}]}}`
	_, err := campaign.Decode([]byte(in))
	require.ErrorContains(t, err, "template.components[0].parameters[0].text: not valid UTF-8 (save the file as UTF-8)")
}

// A component's own error was placed by its offset inside the component,
// at the wrong place of the document, and named no path.
func TestDecode_ComponentErrorsNameTheirPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"id": "a", "template": {"components": [{"type": 5}]}}`:                                         "campaign: template.components[0].type: want string, got number",
		`{"id": "a", "template": {"components": [{"type": "body"}, {"parameters": []}]}}`:                `campaign: template.components[1]: missing "type"`,
		`{"id": "a", "template": {"components": [{"type": "body"}, {"sub_type": 1, "type": "button"}]}}`: "campaign: template.components[1].sub_type: want string, got number",
		`5`:                                `campaign: line 1, column 2: want a JSON object {"id": ...}, got number`,
		`{"template": []}`:                 "campaign: line 1, column 15: template: want a JSON object, got array",
		`{"template": {"components": {}}}`: "campaign: line 1, column 30: template.components: want an array, got object",
		`{"id": "a", "template": {"components": [[1]]}}`: "campaign: template.components[0]: want a JSON object, got array",
	} {
		_, err := campaign.Decode([]byte(in))
		require.EqualError(t, err, want, in)
	}
}
