package producer_test

import (
	"strings"
	"testing"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// A recipient with two body components lost one: over a campaign body the
// last replaced it and the first was dropped; without one both were sent
// and the API refused the message. Such a row is rejected, naming the
// repeat.
func TestEnqueue_RecipientWithTwoBodiesIsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	campBody, err := mmapi.NewComponent(map[string]any{"type": "body", "parameters": []any{map[string]any{"type": "text", "text": "campaign"}}})
	require.NoError(t, err)
	withBody := b.campaign(t, func(c *campaign.Campaign) { c.Template.Components = []mmapi.Component{campBody} })
	without := b.campaign(t, func(c *campaign.Campaign) { c.ID = "no-body" })
	row := `{"to": "441234567890", "components": [` +
		`{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]},` +
		`{"type": "body", "parameters": [{"type": "text", "text": "20% off"}]}]}` + "\n"
	for _, c := range []*campaign.Campaign{withBody, without} {
		sum, err := b.p.Enqueue(b.ctx, c, producer.NewJSONLSource(strings.NewReader(row)), producer.Options{})
		require.NoError(t, err)
		require.EqualValues(t, 1, sum.Rejected, "a recipient with two body components: %+v", sum)
		require.Equal(t, []producer.RowError{{Line: 1, Reason: "components[1]: a second body component (one per type, sub_type and index)"}}, sum.Errors)
	}
}

// Buttons are told apart by sub_type and index: two URL buttons at one
// index are a repeat (whether the index is written as a string or a
// number), at two indexes they are not.
func TestEnqueue_RepeatedButtonIsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	in := `{"to": "441234567890", "components": [{"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "a"}]}, {"type": "button", "sub_type": "url", "index": 1, "parameters": [{"type": "text", "text": "b"}]}]}` + "\n" +
		`{"to": "441234567891", "components": [{"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "a"}]}, {"type": "button", "sub_type": "url", "index": 0, "parameters": [{"type": "text", "text": "b"}]}]}` + "\n"
	sum, err := b.p.Enqueue(b.ctx, c, producer.NewJSONLSource(strings.NewReader(in)), producer.Options{})
	require.NoError(t, err)
	require.EqualValues(t, 1, sum.Accepted, "%+v", sum)
	require.Equal(t, []producer.RowError{{Line: 2, Reason: `components[1]: a second button component of sub_type "url" and index 0 (one per type, sub_type and index)`}}, sum.Errors)
}

// A button's index of any JSON type was accepted ({"x": 1} too) and sent
// to the API. It is a number from 0 to 9, written as a number or a string.
func TestEnqueue_ButtonIndexMustBe0To9(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	btn := func(to, index string) string {
		return `{"to": "` + to + `", "components": [{"type": "button", "sub_type": "url", "index": ` + index + `, "parameters": [{"type": "text", "text": "a"}]}]}` + "\n"
	}
	in := btn("441234567890", `{"x": 1}`) + // 1
		btn("441234567891", `[0]`) + // 2
		btn("441234567892", `true`) + // 3
		btn("441234567893", `null`) + // 4
		btn("441234567894", `10`) + // 5
		btn("441234567895", `"-1"`) + // 6
		btn("441234567896", `1.0`) + // 7
		btn("441234567897", `"0"`) + // 8
		btn("441234567898", `9`) // 9
	sum, err := b.p.Enqueue(b.ctx, c, producer.NewJSONLSource(strings.NewReader(in)), producer.Options{})
	require.NoError(t, err)
	require.EqualValues(t, 2, sum.Accepted, "%+v", sum)
	want := []producer.RowError{
		{Line: 1, Reason: `components[0].index: want a number from 0 to 9 (or the same in a string, "0"), got an object`},
		{Line: 2, Reason: `components[0].index: want a number from 0 to 9 (or the same in a string, "0"), got an array`},
		{Line: 3, Reason: `components[0].index: want a number from 0 to 9 (or the same in a string, "0"), got true`},
		{Line: 4, Reason: `components[0].index: want a number from 0 to 9 (or the same in a string, "0"), got null`},
		{Line: 5, Reason: `components[0].index: want a number from 0 to 9 (or the same in a string, "0"), got 10`},
		{Line: 6, Reason: `components[0].index: want a number from 0 to 9 (or the same in a string, "0"), got "-1"`},
		{Line: 7, Reason: `components[0].index: want a number from 0 to 9 (or the same in a string, "0"), got 1.0`},
	}
	require.Equal(t, want, sum.Errors)
}

// mmlite campaign test --components read its JSON with encoding/json:
// "Type" was read as "type", a repeated key kept its last value. It is
// read as strictly as a recipient row, with the same words.
func TestDecodeComponents_IsStrict(t *testing.T) {
	t.Parallel()
	cs, err := producer.DecodeComponents([]byte(` [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}] `))
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.Equal(t, "body", cs[0].Type)
	for in, want := range map[string]string{
		`[{"Type": "body"}]`:                   `components[0]: unknown field "Type"`,
		`[{"type": "body", "type": "header"}]`: `components[0]: "type" appears twice`,
		`[{"type": "body", "parameters": [{"type": "text", "text": "a", "text": "b"}]}]`: `components[0].parameters[0]: "text" appears twice`,
		"[{\"type\": \"body\", \"x\": \"\xe9\"}]":                                        "components[0].x: not valid UTF-8 (save the file as UTF-8)",
		`[{"type": "body"}, {"type": 1}]`:                                                "components[1].type: want string, got number",
		`[{"type": "body"}, 7]`:                                                          "components[1]: want a JSON object, got number",
		`{"type": "body"}`:                                                               "components: want an array, got object",
		`[{"type": "body"}] [{"type": "header"}]`:                                        "components: more than one JSON value",
		`[{"type": "body"}] x`:                                                           `components: text after the JSON list: "x"`,
		`[{"type": "body"}`:                                                              "components: invalid JSON: unexpected EOF",
	} {
		_, err := producer.DecodeComponents([]byte(in))
		require.EqualError(t, err, want, in)
	}
}
