package mmapi_test

import (
	"encoding/json"
	"testing"

	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/stretchr/testify/require"
)

func TestNewMessage_Minimal(t *testing.T) {
	t.Parallel()
	yes := true
	m := mmapi.NewMessage("441234567890", mmapi.Template{
		Name: "marketing_text_no_param", Language: mmapi.Language{Code: "en"},
	}, nil)
	m.MessageActivitySharing = &yes
	got, err := json.Marshal(m)
	require.NoError(t, err)
	requireJSONEq(t, fixture(t, "send_request.json"), got)
}

func TestNewMessage_Personalised(t *testing.T) {
	t.Parallel()
	var campaign []mmapi.Component
	require.NoError(t, json.Unmarshal([]byte(`[
		{"type": "header", "parameters": [{"type": "image", "image": {"link": "https://example.com/banner.jpg"}}]},
		{"type": "body", "parameters": [{"type": "text", "parameter_name": "first_name", "text": "placeholder"}]}
	]`), &campaign))
	var recipient []mmapi.Component
	require.NoError(t, json.Unmarshal([]byte(`[
		{"type": "body", "parameters": [{"type": "text", "parameter_name": "first_name", "text": "Ana"}, {"type": "text", "parameter_name": "discount", "text": "20%"}]},
		{"type": "button", "sub_type": "url", "index": 0, "parameters": [{"type": "text", "text": "ana-20"}]}
	]`), &recipient))
	// The index came as a number: normalise it the way the API documents it.
	btn, err := mmapi.NewComponent(map[string]any{"type": "button", "sub_type": "url", "index": "0",
		"parameters": []any{map[string]any{"type": "text", "text": "ana-20"}}})
	require.NoError(t, err)
	require.Equal(t, "0", recipient[1].Index)
	recipient[1] = btn

	yes := true
	m := mmapi.NewMessage("5511987654321", mmapi.Template{
		Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}, Components: campaign,
	}, recipient)
	m.MessageActivitySharing = &yes
	m.MessageSendTTLSeconds = 86400
	m.ProductPolicy = mmapi.PolicyStrict
	got, err := json.Marshal(m)
	require.NoError(t, err)
	requireJSONEq(t, fixture(t, "send_request_personalised.json"), got)
}

func TestMergeComponents(t *testing.T) {
	t.Parallel()
	mk := func(typ, sub, idx, text string) mmapi.Component {
		c, err := mmapi.NewComponent(map[string]any{"type": typ, "sub_type": sub, "index": idx, "text": text})
		require.NoError(t, err)
		return c
	}
	campaign := []mmapi.Component{mk("header", "", "", "c-h"), mk("button", "url", "0", "c-b0"), mk("button", "url", "1", "c-b1")}
	recipient := []mmapi.Component{mk("button", "url", "1", "r-b1"), mk("body", "", "", "r-body")}
	got := mmapi.MergeComponents(campaign, recipient)
	b, err := json.Marshal(got)
	require.NoError(t, err)
	var texts []string
	var objs []map[string]any
	require.NoError(t, json.Unmarshal(b, &objs))
	for _, o := range objs {
		texts = append(texts, o["text"].(string))
	}
	require.Equal(t, []string{"c-h", "c-b0", "r-b1", "r-body"}, texts)
	require.Equal(t, campaign, mmapi.MergeComponents(campaign, nil))
	require.Equal(t, recipient, mmapi.MergeComponents(nil, recipient))
}

func TestComponent_Invalid(t *testing.T) {
	t.Parallel()
	var c mmapi.Component
	require.Error(t, json.Unmarshal([]byte(`{"parameters": []}`), &c))
	require.Error(t, json.Unmarshal([]byte(`[1]`), &c))
	_, err := mmapi.NewComponent(map[string]any{"text": "no type"})
	require.Error(t, err)
}

// At names the failing component by its index in the list at a path of
// the document, found as encoding/json finds it (a key in other capitals
// too); without that list, by the path alone.
func TestComponentError_At(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ doc, path, want string }{
		{`{"to": "1", "components": [{"type": "body"}, {"type": 1}]}`, "components", "components[1].type: want string, got number"},
		{`{"template": {"components": [{"sub_type": "url"}]}}`, "template.components", `template.components[0]: missing "type"`},
		{`{"Template": {"Components": [{"type": "body"}, []]}}`, "template.components", "template.components[1]: want a JSON object, got array"},
		{`{"template": {"components": [{"type": "body"}]}}`, "template.components", "template.components: why"},
		{`[1, 2]`, "components", "components: why"},
	} {
		got := (&mmapi.ComponentError{Reason: "why"}).At([]byte(c.doc), c.path)
		require.Equal(t, c.want, got, c.doc)
	}
}
