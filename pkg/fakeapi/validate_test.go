package fakeapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidation(t *testing.T) {
	const to = "441234567890"
	set := func(path string, v any) func(map[string]any) {
		return func(m map[string]any) {
			keys := strings.Split(path, ".")
			for _, k := range keys[:len(keys)-1] {
				m = m[k].(map[string]any)
			}
			m[keys[len(keys)-1]] = v
		}
	}
	del := func(path string) func(map[string]any) {
		return func(m map[string]any) {
			keys := strings.Split(path, ".")
			for _, k := range keys[:len(keys)-1] {
				m = m[k].(map[string]any)
			}
			delete(m, keys[len(keys)-1])
		}
	}
	tests := []struct {
		name    string
		meta    bool   // send on the Meta path instead of 360dialog
		ct      string // Content-Type; default application/json
		raw     string // body; default body(to, mod)
		mod     func(map[string]any)
		status  int    // 0 = 400
		details string // substring of error_data.details; "" = success expected
	}{
		{name: "fixture ok", status: 200},
		{name: "charset param ok", ct: "application/json; charset=utf-8", status: 200},
		{name: "text/plain", ct: "text/plain", details: "Content-Type"},
		{name: "no content type", ct: "-", details: "Content-Type"},
		{name: "too large", raw: `{"to":"` + strings.Repeat("1", 70000) + `"}`, status: 413, details: "larger"},
		{name: "not json", raw: `{"to":`, details: "JSON object"},
		{name: "array", raw: `[1,2]`, details: "JSON object"},
		{name: "null", raw: `null`, details: "JSON object"},
		{name: "trailing garbage", raw: `{} {}`, details: "JSON object"},
		{name: "unknown field", mod: set("foo", 1), details: "foo"},
		{name: "messaging_product missing", mod: del("messaging_product"), details: "messaging_product"},
		{name: "messaging_product sms", mod: set("messaging_product", "sms"), details: "messaging_product"},
		{name: "messaging_product number", mod: set("messaging_product", 1), details: "messaging_product"},
		{name: "recipient_type group", mod: set("recipient_type", "group"), details: "recipient_type"},
		{name: "to missing", mod: del("to"), details: "to"},
		{name: "to number", mod: set("to", 441234567890), details: "Param to"},
		{name: "to plus", mod: set("to", "+441234567890"), details: "Param to"},
		{name: "to leading 0", mod: set("to", "0441234567"), details: "Param to"},
		{name: "to 7 digits", mod: set("to", "4412345"), details: "Param to"},
		{name: "to 16 digits", mod: set("to", "4412345678901234"), details: "Param to"},
		{name: "to letters", mod: set("to", "44123abc90"), details: "Param to"},
		{name: "to 8 digits ok", mod: set("to", "44123456"), status: 200},
		{name: "to 15 digits ok", mod: set("to", "441234567890123"), status: 200},
		{name: "type text", mod: set("type", "text"), details: "type"},
		{name: "template missing", mod: del("template"), details: "template"},
		{name: "template string", mod: set("template", "x"), details: "template"},
		{name: "template null", mod: set("template", nil), details: "template"},
		{name: "name empty", mod: set("template.name", ""), details: "template.name"},
		{name: "name missing", mod: del("template.name"), details: "template.name"},
		{name: "language missing", mod: del("template.language"), details: "template.language"},
		{name: "language array", mod: set("template.language", []any{}), details: "template.language"},
		{name: "code empty", mod: set("template.language.code", ""), details: "template.language.code"},
		{name: "policy missing on 360", mod: del("template.language.policy"), details: "template.language.policy"},
		{name: "policy missing on meta ok", meta: true, mod: del("template.language.policy"), status: 200},
		{name: "policy wrong on meta", meta: true, mod: set("template.language.policy", "fallback"), details: "template.language.policy"},
		{name: "policy wrong on 360", mod: set("template.language.policy", "fallback"), details: "template.language.policy"},
		{name: "ttl too small", mod: set("message_send_ttl_seconds", 100), details: "message_send_ttl_seconds"},
		{name: "ttl too big", mod: set("message_send_ttl_seconds", 2592001), details: "message_send_ttl_seconds"},
		{name: "ttl string", mod: set("message_send_ttl_seconds", "86400"), details: "message_send_ttl_seconds"},
		{name: "ttl fraction", mod: set("message_send_ttl_seconds", 86400.5), details: "message_send_ttl_seconds"},
		{name: "ttl min ok", mod: set("message_send_ttl_seconds", 43200), status: 200},
		{name: "ttl max ok", mod: set("message_send_ttl_seconds", 2592000), status: 200},
		{name: "product_policy wrong", mod: set("product_policy", "LOOSE"), details: "product_policy"},
		{name: "product_policy number", mod: set("product_policy", 1), details: "product_policy"},
		{name: "product_policy strict ok", mod: set("product_policy", "STRICT"), status: 200},
		{name: "product_policy fallback ok", mod: set("product_policy", "CLOUD_API_FALLBACK"), status: 200},
		{name: "activity sharing string", mod: set("message_activity_sharing", "yes"), details: "message_activity_sharing"},
		{name: "activity sharing null", mod: set("message_activity_sharing", nil), details: "message_activity_sharing"},
		{name: "activity sharing false ok", mod: set("message_activity_sharing", false), status: 200},
		{name: "components object", mod: set("template.components", map[string]any{}), details: "template.components"},
		{name: "components of numbers", mod: set("template.components", []any{1}), details: "template.components[0]"},
		{name: "component without type", mod: set("template.components", []any{map[string]any{"parameters": []any{}}}), details: "template.components[0].type"},
		{name: "component type number", mod: set("template.components", []any{map[string]any{"type": 5}}), details: "template.components[0].type"},
		{name: "components empty ok", mod: set("template.components", []any{}), status: 200},
		{name: "personalised fixture ok", raw: "personalised", status: 200},
		{name: "personalised fixture on meta ok", meta: true, raw: "personalised", status: 200},
	}
	f := newFake(t, Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := tc.raw
			switch raw {
			case "":
				raw = body(t, to, tc.mod)
			case "personalised":
				raw = string(fixture(t, "send_request_personalised.json"))
			}
			hdr := map[string]string{"Content-Type": "application/json"}
			switch tc.ct {
			case "-":
				delete(hdr, "Content-Type")
			case "":
			default:
				hdr["Content-Type"] = tc.ct
			}
			path := "/marketing_messages"
			if tc.meta {
				path = metaPath
				hdr["Authorization"] = "Bearer " + testKey
			} else {
				hdr["D360-API-KEY"] = testKey
			}
			r := f.do(t, http.MethodPost, path, hdr, raw)
			require.Equal(t, "application/json", r.header.Get("Content-Type"))
			want := tc.status
			if want == 0 {
				want = http.StatusBadRequest
			}
			require.Equal(t, want, r.status, "%s", r.body)
			if tc.details == "" {
				return
			}
			e := graph(t, r.body)
			require.EqualValues(t, 100, e["code"])
			require.Equal(t, "OAuthException", e["type"])
			require.Contains(t, details(t, r.body), tc.details)
			require.Equal(t, !tc.meta, strings.Contains(string(r.body), `"detail"`), "envelope of %s", r.body)
		})
	}
}

func TestUnknownFieldMessage(t *testing.T) {
	f := newFake(t, Config{})
	r := f.sendMeta(t, testKey, body(t, "441234567890", func(m map[string]any) { m["foo"] = 1 }))
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, "(#100) Param foo is not valid", graph(t, r.body)["message"])
}

// FuzzSend checks that no body can make the handler panic or answer
// without a JSON error. Its seeds run with go test.
func FuzzSend(f *testing.F) {
	for _, seed := range []string{
		`{}`, `null`, `[]`, `"x"`, `{"template":{"language":[]}}`, `{"template":{"components":[null]}}`,
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"441234567890","type":"template","template":{"name":"a","language":{"code":"en","policy":"deterministic"},"components":[{"type":1}]}}`,
		`{"message_send_ttl_seconds":1e400}`, `{"to":"\ud800"}`, strings.Repeat("[", 10000),
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"441234567890","type":"template","template":{"name":"a","language":{"code":"en","policy":"deterministic"},"components":[{"type":"body","parameters":[{"type":"currency","currency":{"fallback_value":"$1","code":"USD","amount_1000":1e400}},{"type":"text","text":" ","parameter_name":""}]},{"type":"carousel","cards":[{"components":[{"type":"header","parameters":[{"type":"image","image":{"link":null}}]}]}]}]}}`,
	} {
		f.Add([]byte(seed))
	}
	s, err := New(Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req := httptest.NewRequest(http.MethodPost, "/marketing_messages", strings.NewReader(string(b)))
		req.Header.Set("D360-API-KEY", testKey)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest && w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d for %q", w.Code, b)
		}
		if w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("content type %q", w.Header().Get("Content-Type"))
		}
	})
}
