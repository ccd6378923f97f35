package producer_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// A JSON row (JSON Lines, the recipients array) whose template parameter
// was blank ("text": "" or "  ") was accepted, where the same recipient
// in CSV is a rejected row (body.1: empty), and the API refused it at send
// (error 100): the recipient failed. A blank parameter (a text, a quick
// reply's payload, a coupon code, a media link or id, in a carousel's
// cards too) is a rejected row in every reader, named by its field, and
// so is a media link that is not http(s), as a CSV's header.image is.
func TestEnqueue_BlankParameterInJSONIsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	const blank = ": empty (a template parameter cannot be blank)"
	rows := []struct{ fields, want string }{
		{`"components": [{"type": "body", "parameters": [{"type": "text", "text": ""}]}]`, "components[0].parameters[0].text" + blank},
		{`"components": [{"type": "body", "parameters": [{"type": "text", "text": "  "}]}]`, "components[0].parameters[0].text" + blank},
		{`"components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "text", "text": "\t\u00a0\n"}]}]`, "components[0].parameters[1].text" + blank},
		{`"components": [{"type": "body", "parameters": [{"type": "text", "parameter_name": "first_name", "text": " "}]}]`, "components[0].parameters[0].text" + blank},
		{`"components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}, {"type": "header", "parameters": [{"type": "text", "text": ""}]}]`, "components[1].parameters[0].text" + blank},
		{`"components": [{"type": "header", "parameters": [{"type": "image", "image": {"link": " "}}]}]`, "components[0].parameters[0].image.link" + blank},
		{`"components": [{"type": "header", "parameters": [{"type": "document", "document": {"link": "ftp://x.com/a.pdf", "filename": "a.pdf"}}]}]`, `components[0].parameters[0].document.link: "ftp://x.com/a.pdf" is not an http(s) link`},
		{`"components": [{"type": "header", "parameters": [{"type": "video", "video": {"id": ""}}]}]`, "components[0].parameters[0].video.id" + blank},
		{`"components": [{"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": ""}]}]`, "components[0].parameters[0].text" + blank},
		{`"components": [{"type": "button", "sub_type": "quick_reply", "index": 1, "parameters": [{"type": "payload", "payload": " "}]}]`, "components[0].parameters[0].payload" + blank},
		{`"components": [{"type": "button", "sub_type": "copy_code", "index": 2, "parameters": [{"type": "coupon_code", "coupon_code": ""}]}]`, "components[0].parameters[0].coupon_code" + blank},
		{`"components": [{"type": "carousel", "cards": [{"card_index": 0, "components": [{"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x.com/0.png"}}]}]},
			{"card_index": 1, "components": [{"type": "header", "parameters": [{"type": "image", "image": {"link": ""}}]}]}]}]`, "components[0].cards[1].components[0].parameters[0].image.link" + blank},
		// What is not a blank parameter passes: text with spaces around
		// it, media by id, a body without parameters, a currency, an
		// empty metadata value, and blank text that is no parameter's.
		{`"components": [{"type": "body", "parameters": [{"type": "text", "text": " Ana "}, {"type": "currency", "currency": {"fallback_value": "$10", "code": "USD", "amount_1000": 10000}}]},
			{"type": "header", "parameters": [{"type": "image", "image": {"id": "1234"}}]},
			{"type": "button", "sub_type": "url", "index": 0, "parameters": [{"type": "text", "text": "offer"}]},
			{"type": "button", "sub_type": "quick_reply", "index": 1, "parameters": [{"type": "payload", "payload": "stop"}]}], "metadata": {"crm_id": ""}`, ""},
		{`"components": [{"type": "body"}, {"type": "header", "parameters": [{"type": "document", "document": {"link": "HTTPS://x.com/a.pdf", "filename": " "}}]}]`, ""},
	}
	var in strings.Builder
	var want []producer.RowError
	for i, r := range rows {
		fmt.Fprintf(&in, `{"to": "4477009000%02d", %s}`+"\n", i, strings.ReplaceAll(r.fields, "\n\t\t\t", " "))
		if r.want != "" {
			want = append(want, producer.RowError{Line: i + 1, Reason: r.want})
		}
	}
	sum, err := b.p.Enqueue(b.ctx, c, producer.NewJSONLSource(strings.NewReader(in.String())), producer.Options{DryRun: true})
	require.NoError(t, err)
	require.Equal(t, want, sum.Errors, in.String())
	require.EqualValues(t, 2, sum.Accepted, "%+v", sum)
}

// A CSV's blank parameter is refused as a JSON row's is, in the same
// words, whatever its column: header.text said only "empty", button.0
// "empty (the URL suffix of the button)".
func TestCSV_BlankParameterWordedAsJSON(t *testing.T) {
	t.Parallel()
	for col, cell := range map[string]string{"body.1": " ", "body.first_name": "", "header.text": "\t", "header.image": "", "button.0": "  "} {
		rows, err := drain(t, producer.NewCSVSource(strings.NewReader("to,"+col+"\n441234567890,"+cell+"\n")))
		require.NoError(t, err)
		require.Len(t, rows, 1)
		require.Equal(t, col+": empty (a template parameter cannot be blank)", rows[0].err)
	}
}

// A JSON row whose parameter has no value, under another name or case
// ("value", "Text"), or one that is no string, was accepted (only a blank
// string was refused), and the API refused the message at send (error
// 100). Each is a rejected row with its line and field.
func TestEnqueue_ParameterWithoutItsValueIsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	in := `{"to": "447700900001", "components": [{"type": "body", "parameters": [{"type": "text", "value": "Ana"}]}]}
{"to": "447700900002", "components": [{"type": "body", "parameters": [{"type": "text", "Text": "Ana"}]}]}
{"to": "447700900003", "components": [{"type": "body", "parameters": [{"type": "text", "text": 42}]}]}
{"to": "447700900004", "components": [{"type": "header", "parameters": [{"type": "image", "image": {"url": "https://x.com/a.png"}}]}]}
{"to": "447700900005", "components": [{"type": "body", "parameters": [{"text": "Ana", "type": "text"}]}]}
`
	sum, err := b.p.Enqueue(b.ctx, c, producer.NewJSONLSource(strings.NewReader(in)), producer.Options{DryRun: true})
	require.NoError(t, err)
	require.Equal(t, []producer.RowError{
		{Line: 1, Reason: `components[0].parameters[0]: a text parameter without "text" (want {"type": "text", "text": "..."})`},
		{Line: 2, Reason: `components[0].parameters[0]: a text parameter without "text" (want {"type": "text", "text": "..."})`},
		{Line: 3, Reason: `components[0].parameters[0].text: want a string, got 42`},
		{Line: 4, Reason: `components[0].parameters[0].image: want a "link" or an "id"`},
	}, sum.Errors)
	require.EqualValues(t, 1, sum.Accepted, "%+v", sum)
}

// A named parameter whose parameter_name was blank, or no name Meta gives
// (capitals, a dash), was accepted, and the API refused the message at
// send (error 100). It is a rejected row naming the field, in JSON Lines
// and in a Go program's own rows; a CSV's body.<name> columns are checked
// by their header.
func TestEnqueue_BadParameterNameIsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	in := `{"to": "447700900001", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": ""}]}]}
{"to": "447700900002", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": "  "}]}]}
{"to": "447700900003", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": "first_name"}, {"type": "text", "text": "20%", "parameter_name": "Discount"}]}]}
{"to": "447700900004", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": "first_name"}]}]}
`
	sum, err := b.p.Enqueue(b.ctx, c, producer.NewJSONLSource(strings.NewReader(in)), producer.Options{DryRun: true})
	require.NoError(t, err)
	require.Equal(t, []producer.RowError{
		{Line: 1, Reason: `components[0].parameters[0].parameter_name: empty (a parameter name cannot be blank)`},
		{Line: 2, Reason: `components[0].parameters[0].parameter_name: empty (a parameter name cannot be blank)`},
		{Line: 3, Reason: `components[0].parameters[1].parameter_name: "Discount" is not a parameter name: lowercase letters, digits and underscores only`},
	}, sum.Errors)
	require.EqualValues(t, 1, sum.Accepted, "%+v", sum)

	comp, err := mmapi.NewComponent(map[string]any{"type": "body", "parameters": []map[string]string{{"type": "text", "text": "Ana", "parameter_name": ""}}})
	require.NoError(t, err)
	src := recipients{{To: "447700900005", Components: []mmapi.Component{comp}}}
	sum, err = b.p.Enqueue(b.ctx, c, &src, producer.Options{DryRun: true})
	require.NoError(t, err)
	require.Equal(t, []producer.RowError{{Reason: `components[0].parameters[0].parameter_name: empty (a parameter name cannot be blank)`}}, sum.Errors, "a Go row has no line")

	for _, col := range []string{"body.First_Name", "body.first-name", "body.first name"} {
		_, err := drain(t, producer.NewCSVSource(strings.NewReader("to,"+col+"\n441234567890,Ana\n")))
		require.EqualError(t, err, `line 1: column "`+col+`": a named parameter is lowercase letters, digits and underscores`, col)
	}
}

// A currency or date_time parameter whose fallback_value was blank or left
// out was accepted (they were the API's to judge), and the API refused the
// message at send (error 100). It is a rejected row naming the field.
func TestEnqueue_BlankFallbackValueIsRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	in := `{"to": "447700900001", "components": [{"type": "body", "parameters": [{"type": "currency", "currency": {"fallback_value": "", "code": "USD", "amount_1000": 100}}]}]}
{"to": "447700900002", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}, {"type": "date_time", "date_time": {"fallback_value": " "}}]}]}
{"to": "447700900003", "components": [{"type": "body", "parameters": [{"type": "currency", "currency": {"code": "USD", "amount_1000": 100}}]}]}
{"to": "447700900004", "components": [{"type": "body", "parameters": [{"type": "currency", "currency": {"fallback_value": "$0.10", "code": "USD", "amount_1000": 100}}, {"type": "date_time", "date_time": {"fallback_value": "May 1"}}]}]}
`
	sum, err := b.p.Enqueue(b.ctx, c, producer.NewJSONLSource(strings.NewReader(in)), producer.Options{DryRun: true})
	require.NoError(t, err)
	require.Equal(t, []producer.RowError{
		{Line: 1, Reason: `components[0].parameters[0].currency.fallback_value: empty (a template parameter cannot be blank)`},
		{Line: 2, Reason: `components[0].parameters[1].date_time.fallback_value: empty (a template parameter cannot be blank)`},
		{Line: 3, Reason: `components[0].parameters[0].currency.fallback_value: missing (want {"type": "currency", "currency": {"fallback_value": "$10.00", "code": "USD", "amount_1000": 10000}})`},
	}, sum.Errors)
	require.EqualValues(t, 1, sum.Accepted, "%+v", sum)
}
