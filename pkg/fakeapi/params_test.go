package fakeapi

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// The fake took a template parameter that was blank or without its value
// ({"type": "text", "text": " "}, {"type": "text"}, an image without link
// or id, a currency without fallback_value), where the API answers 400
// with error 100: a test that sent such a message saw a success that
// production never gives. Each is refused as the API does, in the
// envelope of the endpoint, naming the parameter.
func TestValidation_Parameters(t *testing.T) {
	t.Parallel()
	f := newFake(t, Config{})
	withComponents := func(comps string) string {
		return body(t, "441234567890", func(m map[string]any) {
			var v any
			require.NoError(t, json.Unmarshal([]byte(comps), &v))
			m["template"].(map[string]any)["components"] = v
		})
	}
	const p0 = "template.components[0].parameters[0]"
	for comps, want := range map[string]string{
		`[{"type": "body", "parameters": [{"type": "text", "text": ""}]}]`:                                                                     "Param " + p0 + ".text must not be blank",
		`[{"type": "body", "parameters": [{"type": "text", "text": " \u00a0"}]}]`:                                                              "Param " + p0 + ".text must not be blank",
		`[{"type": "body", "parameters": [{"type": "text"}]}]`:                                                                                 "Param " + p0 + ".text is required",
		`[{"type": "body", "parameters": [{"type": "text", "value": "Ana"}]}]`:                                                                 "Param " + p0 + ".text is required",
		`[{"type": "body", "parameters": [{"type": "text", "text": 5}]}]`:                                                                      "Param " + p0 + ".text must be a string",
		`[{"type": "body", "parameters": [{"text": "Ana"}]}]`:                                                                                  "Param " + p0 + ".type is required",
		`[{"type": "body", "parameters": ["Ana"]}]`:                                                                                            "Param " + p0 + " must be a JSON object",
		`[{"type": "body", "parameters": {"type": "text", "text": "Ana"}}]`:                                                                    "Param template.components[0].parameters must be an array",
		`[{"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": " "}]}]`:                                           "Param " + p0 + ".parameter_name must not be blank",
		`[{"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": "First Name"}]}]`:                                  "Param " + p0 + `.parameter_name must be lowercase letters, digits and underscores, got "First Name"`,
		`[{"type": "header", "parameters": [{"type": "image", "image": {}}]}]`:                                                                 "Param " + p0 + ".image.link or " + p0 + ".image.id is required",
		`[{"type": "header", "parameters": [{"type": "image", "image": {"link": " "}}]}]`:                                                      "Param " + p0 + ".image.link must not be blank",
		`[{"type": "header", "parameters": [{"type": "document"}]}]`:                                                                           "Param " + p0 + ".document is required",
		`[{"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": ""}]}]`:                    "Param " + p0 + ".payload must not be blank",
		`[{"type": "button", "sub_type": "copy_code", "index": "0", "parameters": [{"type": "coupon_code"}]}]`:                                 "Param " + p0 + ".coupon_code is required",
		`[{"type": "body", "parameters": [{"type": "currency", "currency": {"fallback_value": "", "code": "USD", "amount_1000": 1}}]}]`:        "Param " + p0 + ".currency.fallback_value must not be blank",
		`[{"type": "body", "parameters": [{"type": "currency", "currency": {"fallback_value": "$1", "amount_1000": 1}}]}]`:                     "Param " + p0 + ".currency.code is required",
		`[{"type": "body", "parameters": [{"type": "currency", "currency": {"fallback_value": "$1", "code": "USD"}}]}]`:                        "Param " + p0 + ".currency.amount_1000 is required",
		`[{"type": "body", "parameters": [{"type": "date_time", "date_time": {}}]}]`:                                                           "Param " + p0 + ".date_time.fallback_value is required",
		`[{"type": "carousel", "cards": [{"card_index": 0, "components": [{"type": "body", "parameters": [{"type": "text", "text": ""}]}]}]}]`: "Param template.components[0].cards[0].components[0].parameters[0].text must not be blank",
		// What the API takes: values with their members, media by id, a
		// parameter type the fake does not know, no parameters at all.
		`[{"type": "header", "parameters": [{"type": "video", "video": {"id": "123"}}]},
		  {"type": "body", "parameters": [{"type": "text", "parameter_name": "first_name", "text": " Ana "},
		    {"type": "currency", "currency": {"fallback_value": "$1", "code": "USD", "amount_1000": 1000}},
		    {"type": "date_time", "date_time": {"fallback_value": "May 1"}}]},
		  {"type": "limited_time_offer", "parameters": [{"type": "limited_time_offer", "limited_time_offer": {"expiration_time_ms": 1}}]},
		  {"type": "button", "sub_type": "url", "index": 0}]`: "",
	} {
		for _, meta := range []bool{false, true} {
			var r reply
			if meta {
				r = f.sendMeta(t, testKey, withComponents(comps))
			} else {
				r = f.send360(t, testKey, withComponents(comps))
			}
			if want == "" {
				require.Equal(t, http.StatusOK, r.status, "%s: %s", comps, r.body)
				continue
			}
			require.Equal(t, http.StatusBadRequest, r.status, "%s: %s", comps, r.body)
			e := graph(t, r.body)
			require.EqualValues(t, 100, e["code"], "%s", r.body)
			require.Equal(t, "(#100) Invalid parameter", e["message"], "%s", r.body)
			require.Equal(t, "OAuthException", e["type"])
			require.Equal(t, want, details(t, r.body), comps)
		}
	}
}
