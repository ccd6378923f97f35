package campaign_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/stretchr/testify/require"
)

var now = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func valid() campaign.Campaign {
	return campaign.Campaign{ID: "spring-sale-2026", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
}

func TestCampaign_ContractJSON(t *testing.T) {
	t.Parallel()
	var c campaign.Campaign
	require.NoError(t, json.Unmarshal([]byte(`{
	  "id": "spring-sale-2026",
	  "sender": "default",
	  "template": {"name": "spring_sale", "language": {"code": "pt_BR", "policy": "deterministic"},
	               "components": []},
	  "message_activity_sharing": true,
	  "message_send_ttl_seconds": 86400,
	  "product_policy": "STRICT",
	  "send_at": "2026-11-25T10:00:00Z",
	  "expires_at": "2026-11-26T10:00:00Z"
	}`), &c))
	c.Normalize()
	require.NoError(t, c.Validate(now))
	require.Equal(t, int64(1795687200), c.ExpiresUnix())
	m := c.Message("441234567890", nil)
	require.Equal(t, "STRICT", m.ProductPolicy)
	require.Equal(t, 86400, m.MessageSendTTLSeconds)
	require.True(t, *m.MessageActivitySharing)
	require.Equal(t, "deterministic", m.Template.Language.Policy)
}

func TestCampaign_Defaults(t *testing.T) {
	t.Parallel()
	c := valid()
	c.Normalize()
	require.Equal(t, "default", c.Sender)
	require.Equal(t, "deterministic", c.Template.Language.Policy)
	require.NoError(t, c.Validate(now))
	require.Zero(t, c.ExpiresUnix())
}

func TestCampaign_Validate(t *testing.T) {
	t.Parallel()
	at := func(s string) *time.Time { t, _ := time.Parse(time.RFC3339, s); return &t }
	comp := func(typ string) mmapi.Component {
		c, err := mmapi.NewComponent(map[string]string{"type": typ})
		require.NoError(t, err)
		return c
	}
	cases := []struct {
		name string
		edit func(c *campaign.Campaign)
		want string
	}{
		{"empty id", func(c *campaign.Campaign) { c.ID = "" }, "id must be 1-64"},
		{"long id", func(c *campaign.Campaign) { c.ID = strings.Repeat("a", 65) }, "id must be 1-64"},
		{"id with space", func(c *campaign.Campaign) { c.ID = "a b" }, "id must be 1-64"},
		{"id with colon", func(c *campaign.Campaign) { c.ID = "a:b" }, "id must be 1-64"},
		{"bad sender", func(c *campaign.Campaign) { c.Sender = "x/y" }, "sender must be"},
		{"no template", func(c *campaign.Campaign) { c.Template.Name = "" }, "template.name is required"},
		{"template upper", func(c *campaign.Campaign) { c.Template.Name = "Spring" }, "template.name must be lowercase"},
		{"no language", func(c *campaign.Campaign) { c.Template.Language.Code = "" }, "template.language.code is required"},
		{"bad language", func(c *campaign.Campaign) { c.Template.Language.Code = "portuguese" }, "template.language.code must look like"},
		{"bad policy", func(c *campaign.Campaign) { c.Template.Language.Policy = "fallback" }, "template.language.policy must be"},
		{"bad component", func(c *campaign.Campaign) { c.Template.Components = []mmapi.Component{comp("body"), comp("footer")} }, "template.components[1].type"},
		{"ttl low", func(c *campaign.Campaign) { c.MessageSendTTLSeconds = 43199 }, "message_send_ttl_seconds must be between 43200"},
		{"ttl high", func(c *campaign.Campaign) { c.MessageSendTTLSeconds = 2592001 }, "message_send_ttl_seconds"},
		{"ttl negative", func(c *campaign.Campaign) { c.MessageSendTTLSeconds = -1 }, "message_send_ttl_seconds"},
		{"callback in clear", func(c *campaign.Campaign) { c.CallbackURL = "http://crm.example.com/cb" }, "callback_url: want https://"},
		{"callback relative", func(c *campaign.Campaign) { c.CallbackURL = "/cb" }, "callback_url: want an absolute https:// URL"},
		{"product policy", func(c *campaign.Campaign) { c.ProductPolicy = "strict" }, "product_policy must be"},
		{"expired", func(c *campaign.Campaign) { c.ExpiresAt = at("2026-11-25T09:59:59Z") }, "expires_at 2026-11-25T09:59:59Z has already passed"},
		{"expires now", func(c *campaign.Campaign) { c.ExpiresAt = at("2026-11-25T10:00:00Z") }, "has already passed"},
		{"send after expiry", func(c *campaign.Campaign) {
			c.SendAt, c.ExpiresAt = at("2026-11-27T00:00:00Z"), at("2026-11-26T00:00:00Z")
		}, "send_at 2026-11-27T00:00:00Z must come before expires_at"},
		{"send equals expiry", func(c *campaign.Campaign) {
			c.SendAt, c.ExpiresAt = at("2026-11-26T00:00:00Z"), at("2026-11-26T00:00:00Z")
		}, "must come before"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.edit(&c)
			err := c.Validate(now)
			require.ErrorContains(t, err, tc.want)
			var ve *campaign.ValidationError
			require.ErrorAs(t, err, &ve)
		})
	}
	// Every problem is reported at once.
	c := campaign.Campaign{MessageSendTTLSeconds: 5}
	err := c.Validate(now)
	var ve *campaign.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Errs, 4)
	require.NotContains(t, err.Error(), "\n")
	// Valid edges.
	for _, edit := range []func(c *campaign.Campaign){
		func(c *campaign.Campaign) { c.MessageSendTTLSeconds = 43200 },
		func(c *campaign.Campaign) { c.MessageSendTTLSeconds = 2592000 },
		func(c *campaign.Campaign) { c.ProductPolicy = "CLOUD_API_FALLBACK" },
		func(c *campaign.Campaign) { c.Template.Language.Code = "en" },
		func(c *campaign.Campaign) { c.Template.Language.Code = "zh_HK" },
		func(c *campaign.Campaign) { c.SendAt = at("2026-12-01T00:00:00Z") },
	} {
		c := valid()
		edit(&c)
		require.NoError(t, c.Validate(now))
	}
}

// An id of dots alone is refused: a URL path cleans it away, so neither
// the API nor the console could reach the campaign.
func TestValidate_DotsAloneAreNoID(t *testing.T) {
	t.Parallel()
	for _, id := range []string{".", ".."} {
		c := &campaign.Campaign{ID: id, Template: mmapi.Template{Name: "t", Language: mmapi.Language{Code: "en"}}}
		require.ErrorContains(t, c.Validate(now), "not only dots", id)
	}
}

// A campaign's template.components with two of a kind was accepted: a
// recipient's component replaced only one of them, and the API refused
// the message. So was a button's index of any JSON type. Both are refused,
// naming the component.
func TestValidate_RepeatedComponentAndBadIndex(t *testing.T) {
	t.Parallel()
	comp := func(js string) mmapi.Component {
		var c mmapi.Component
		require.NoError(t, json.Unmarshal([]byte(js), &c))
		return c
	}
	cases := []struct {
		comps []string
		want  string
	}{
		{[]string{`{"type": "body"}`, `{"type": "header"}`, `{"type": "body"}`},
			"template.components[2]: a second body component (one per type, sub_type and index)"},
		{[]string{`{"type": "button", "sub_type": "url", "index": 0}`, `{"type": "button", "sub_type": "url", "index": "0"}`},
			`template.components[1]: a second button component of sub_type "url" and index 0 (one per type, sub_type and index)`},
		{[]string{`{"type": "button", "sub_type": "url", "index": {"x": 1}}`},
			`template.components[0].index: want a number from 0 to 9 (or the same in a string, "0"), got an object`},
	}
	for _, tc := range cases {
		c := valid()
		for _, js := range tc.comps {
			c.Template.Components = append(c.Template.Components, comp(js))
		}
		require.EqualError(t, c.Validate(now), "campaign: "+tc.want)
	}
	c := valid()
	c.Template.Components = []mmapi.Component{comp(`{"type": "body"}`), comp(`{"type": "button", "sub_type": "url", "index": 0}`),
		comp(`{"type": "button", "sub_type": "url", "index": "1"}`), comp(`{"type": "button", "sub_type": "quick_reply", "index": 0}`)}
	require.NoError(t, c.Validate(now))
}

// A campaign's template.components with a blank parameter was accepted,
// and the API refused every message of the campaign at send (error 100).
// It is refused as a recipient's is, naming the field.
func TestValidate_BlankTemplateParameter(t *testing.T) {
	t.Parallel()
	checkComponents(t, map[string]string{
		`{"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": " "}]}`: "template.components[0].parameters[1].text: empty (a template parameter cannot be blank)",
		`{"type": "header", "parameters": [{"type": "image", "image": {"link": "www.x.com/a.png"}}]}`:      `template.components[0].parameters[0].image.link: "www.x.com/a.png" is not an http(s) link`,
		`{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}`:                                "",
	})
}

// A campaign's template.components with a named parameter whose
// parameter_name was blank, or no name Meta gives, was accepted, and the
// API refused every message of the campaign at send (error 100). It is
// refused whole, naming the field.
func TestValidate_BadParameterName(t *testing.T) {
	t.Parallel()
	checkComponents(t, map[string]string{
		`{"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": ""}]}`:           "template.components[0].parameters[0].parameter_name: empty (a parameter name cannot be blank)",
		`{"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": " "}]}`:          "template.components[0].parameters[0].parameter_name: empty (a parameter name cannot be blank)",
		`{"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": "FirstName"}]}`:  `template.components[0].parameters[0].parameter_name: "FirstName" is not a parameter name: lowercase letters, digits and underscores only`,
		`{"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": "first_name"}]}`: "",
	})
}

// A campaign's currency or date_time parameter with a blank
// fallback_value was accepted, and the API refused every message of the
// campaign at send (error 100). It is refused whole, naming the field.
func TestValidate_BlankFallbackValue(t *testing.T) {
	t.Parallel()
	checkComponents(t, map[string]string{
		`{"type": "body", "parameters": [{"type": "currency", "currency": {"fallback_value": "", "code": "USD", "amount_1000": 100}}]}`: "template.components[0].parameters[0].currency.fallback_value: empty (a template parameter cannot be blank)",
		`{"type": "body", "parameters": [{"type": "date_time", "date_time": {"fallback_value": " "}}]}`:                                 "template.components[0].parameters[0].date_time.fallback_value: empty (a template parameter cannot be blank)",
		`{"type": "body", "parameters": [{"type": "date_time", "date_time": {"fallback_value": "May 1"}}]}`:                             "",
	})
}

// checkComponents validates a campaign whose template.components is each
// component's JSON: want is the error it must give (after "campaign: "),
// "" for none.
func checkComponents(t *testing.T, cases map[string]string) {
	t.Helper()
	for js, want := range cases {
		var comp mmapi.Component
		require.NoError(t, json.Unmarshal([]byte(js), &comp))
		c := valid()
		c.Template.Components = []mmapi.Component{comp}
		if want == "" {
			require.NoError(t, c.Validate(now), js)
			continue
		}
		require.EqualError(t, c.Validate(now), "campaign: "+want, js)
	}
}
