package producer_test

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// byLine returns the rows by line, each line once.
func byLine(t *testing.T, rows []row) map[int]row {
	t.Helper()
	got := map[int]row{}
	for _, r := range rows {
		require.NotContains(t, got, r.line, "line %d twice", r.line)
		got[r.line] = r
	}
	return got
}

// A file saved in Latin-1 was accepted and its bytes turned into U+FFFD:
// the customer got "caf\ufffd". Such a row is rejected, naming its column;
// the rows around it are kept.
func TestCSV_NotUTF8IsARejectedRow(t *testing.T) {
	t.Parallel()
	in := "to,body.1,header.text,button.0,meta.crm_id,status\n" +
		"447700900100,caf\xe9,Hi,b,1,\n" + // 2
		"447700900101,café,Hi,b,1,\n" + // 3
		"447700900102,x,Hi,b,cr\xe9,\n" + // 4
		"447700900103,x,H\xe9,b,1,\n" + // 5
		"447700900104,x,Hi,\xe9,1,\n" + // 6
		"44770090010\xb5,x,Hi,b,1,\n" + // 7
		"447700900106,x,Hi,b,1,f\xe9iled\n" // 8: read past, never sent
	rows, err := drain(t, producer.NewCSVSource(strings.NewReader(in)))
	require.NoError(t, err)
	got := byLine(t, rows)
	require.Len(t, rows, 7)
	require.Equal(t, "body.1: not valid UTF-8 (save the file as UTF-8)", got[2].err)
	require.Empty(t, got[3].err)
	require.Contains(t, componentsJSON(t, got[3].r), `"text":"café"`)
	require.Equal(t, "meta.crm_id: not valid UTF-8 (save the file as UTF-8)", got[4].err)
	require.Equal(t, "header.text: not valid UTF-8 (save the file as UTF-8)", got[5].err)
	require.Equal(t, "button.0: not valid UTF-8 (save the file as UTF-8)", got[6].err)
	require.Equal(t, "to: not valid UTF-8 (save the file as UTF-8)", got[7].err)
	require.Empty(t, got[8].err)
}

// encoding/json turns bytes that are not UTF-8 into U+FFFD: a row holding
// them is rejected, naming the field.
func TestJSONL_NotUTF8IsARejectedRow(t *testing.T) {
	t.Parallel()
	in := `{"to": "447700900100", "components": [{"type": "body", "parameters": [{"type": "text", "text": "caf` + "\xe9" + `"}]}]}` + "\n" +
		`{"to": "447700900101", "metadata": {"crm_id": "` + "\xe9" + `"}}` + "\n" +
		`{"to": "447700900102", "metadata": {"crm_id": "café"}}` + "\n"
	rows, err := drain(t, producer.NewJSONLSource(strings.NewReader(in)))
	require.NoError(t, err)
	got := byLine(t, rows)
	require.Equal(t, "components[0].parameters[0].text: not valid UTF-8 (save the file as UTF-8)", got[1].err)
	require.Equal(t, "metadata.crm_id: not valid UTF-8 (save the file as UTF-8)", got[2].err)
	require.Equal(t, map[string]string{"crm_id": "café"}, got[3].r.Metadata)

	d := json.NewDecoder(strings.NewReader("[" + strings.ReplaceAll(strings.TrimSpace(in), "\n", ",") + "]"))
	_, _ = d.Token()
	rows, err = drain(t, producer.NewArraySource(d))
	require.NoError(t, err)
	require.Len(t, rows, 3)
	require.Equal(t, "components[0].parameters[0].text: not valid UTF-8 (save the file as UTF-8)", rows[0].err)
	require.Equal(t, "metadata.crm_id: not valid UTF-8 (save the file as UTF-8)", rows[1].err)
	require.Empty(t, rows[2].err)
}

// A key repeated in a recipient took its last value (the message went to
// the second "to"), and "TO" was read as "to": both are rejected rows.
func TestJSONL_RepeatedAndCaseOnlyKeys(t *testing.T) {
	t.Parallel()
	lines := []string{
		`{"to": "447700900100", "to": "447700900199"}`,
		`{"to": "447700900101", "metadata": {"crm_id": "1", "crm_id": "2"}}`,
		`{"to": "447700900102", "components": [{"type": "body", "type": "header", "parameters": []}]}`,
		`{"TO": "447700900103"}`,
		`{"to": "447700900104", "Metadata": {"a": "b"}}`,
		`{"to": "447700900105", "metadata": {"a": "1", "A": "2"}}`,
		// A component's keys that mmlite reads: "Type" was read as "type",
		// and the component sent as written, which the API refuses.
		`{"to": "447700900106", "components": [{"Type": "body", "parameters": []}]}`,
		`{"to": "447700900107", "components": [{"type": "button", "Sub_Type": "url", "index": 0, "parameters": []}]}`,
		`{"to": "447700900108", "components": [{"type": "body", "Parameters": []}]}`,
		`{"to": "447700900109", "components": [{"type": "carousel", "cards": [], "x_custom": 1}]}`,
	}
	want := []string{
		`"to" appears twice`,
		`metadata: "crm_id" appears twice`,
		`components[0]: "type" appears twice`,
		`unknown field "TO"`,
		`unknown field "Metadata"`,
		``,
		`components[0]: unknown field "Type"`,
		`components[0]: unknown field "Sub_Type"`,
		`components[0]: unknown field "Parameters"`,
		``, // keys it does not read travel as written
	}
	rows, err := drain(t, producer.NewJSONLSource(strings.NewReader(strings.Join(lines, "\n"))))
	require.NoError(t, err)
	require.Len(t, rows, len(lines))
	for i, w := range want {
		require.Equal(t, w, rows[i].err, lines[i])
	}
	require.Equal(t, map[string]string{"a": "1", "A": "2"}, rows[5].r.Metadata, "metadata keys are the sender's own")

	d := json.NewDecoder(strings.NewReader("[" + strings.Join(lines, ",") + "]"))
	_, _ = d.Token()
	rows, err = drain(t, producer.NewArraySource(d))
	require.NoError(t, err)
	require.Len(t, rows, len(lines))
	for i, w := range want {
		require.Equal(t, w, rows[i].err, lines[i])
	}
}

// recipients is a Source of recipients built in Go, as a program using the
// producer package hands them in.
type recipients []producer.Recipient

func (r *recipients) Next() (producer.Recipient, int, error) {
	if len(*r) == 0 {
		return producer.Recipient{}, 0, io.EOF
	}
	next := (*r)[0]
	*r = (*r)[1:]
	return next, 0, nil
}

// Metadata built in Go is checked too: its result's JSON would carry
// U+FFFD.
func TestEnqueue_MetadataNotUTF8(t *testing.T) {
	t.Parallel()
	src := recipients{
		{To: "447700900100", Metadata: map[string]string{"crm_id": "caf\xe9"}},
		{To: "447700900101", Metadata: map[string]string{"crm_id": "café"}},
	}
	sum, err := dryRun(t, &src)
	require.NoError(t, err)
	require.EqualValues(t, 1, sum.Accepted)
	require.Len(t, sum.Errors, 1)
	require.Equal(t, "metadata.crm_id: not valid UTF-8", sum.Errors[0].Reason)
}

// A component built in Go keeps the JSON it was made of (mmapi.RawComponent,
// or one decoded with encoding/json), bytes that are not UTF-8 included:
// the API was sent them. Such a row is refused, naming the field, as its
// metadata would be.
func TestEnqueue_ComponentsNotUTF8(t *testing.T) {
	t.Parallel()
	var decoded []mmapi.Component
	require.NoError(t, json.Unmarshal([]byte("[{\"type\": \"header\"}, {\"type\": \"body\", \"parameters\": [{\"type\": \"text\", \"text\": \"caf\xe9\"}]}]"), &decoded))
	src := recipients{
		{To: "447700900100", Components: []mmapi.Component{mmapi.RawComponent("body", "", "", json.RawMessage("{\"type\":\"body\",\"parameters\":[{\"type\":\"text\",\"text\":\"caf\xe9\"}]}"))}},
		{To: "447700900101", Components: decoded},
		{To: "447700900102", Components: []mmapi.Component{mmapi.RawComponent("body", "", "", json.RawMessage(`{"type":"body","parameters":[{"type":"text","text":"café"}]}`))}},
	}
	sum, err := dryRun(t, &src)
	require.NoError(t, err)
	require.EqualValues(t, 1, sum.Accepted)
	require.Len(t, sum.Errors, 2)
	require.Equal(t, "components[0].parameters[0].text: not valid UTF-8", sum.Errors[0].Reason)
	require.Equal(t, "components[1].parameters[0].text: not valid UTF-8", sum.Errors[1].Reason)
}

// tagged wraps one of the package's readers and changes its rows after the
// reader's check, as a program's own Source may.
type tagged struct{ *producer.JSONLSource }

func (s tagged) Next() (producer.Recipient, int, error) {
	r, line, err := s.JSONLSource.Next()
	if err == nil {
		r.Metadata = map[string]string{"batch": "caf\xe9"}
	}
	return r, line, err
}

// The readers' rows are not checked twice for UTF-8, but a Source that
// wraps a reader is checked as any Source built in Go.
func TestEnqueue_WrappedReaderNotUTF8(t *testing.T) {
	t.Parallel()
	sum, err := dryRun(t, tagged{producer.NewJSONLSource(strings.NewReader(`{"to": "447700900100"}` + "\n"))})
	require.NoError(t, err)
	require.Zero(t, sum.Accepted)
	require.Equal(t, []producer.RowError{{Line: 1, Reason: "metadata.batch: not valid UTF-8"}}, sum.Errors)
}

// A row's reason says what is wrong with the JSON that is there: valid
// JSON was called invalid, and a value that is not an object was
// described by a Go type.
func TestJSONL_ReasonsSayWhatIsWrong(t *testing.T) {
	t.Parallel()
	lines := []string{
		`12,x`,
		`"x" y`,
		`{"to": "447700900100", "components": [{"parameters": []}]}`,
		`{"to": "447700900101", "components": [{"type": "body"}, {"type": 5}]}`,
		`{"to": "447700900102", "components": [{"type": "body"}, [1]]}`,
		`{"to": "447700900103", "colour": "red"}`,
		`{"to": "447700900104"`,
		`{"to": "447700900105", "metadata": ["a"]}`,
		`{"to": "447700900106", "components": {"type": "body"}}`,
	}
	want := []string{
		`want a JSON object {"to": ...}, got a number`,
		`want a JSON object {"to": ...}, got a string`,
		`components[0]: missing "type"`,
		`components[1].type: want string, got number`,
		`components[1]: want a JSON object, got array`,
		`unknown field "colour"`,
		`invalid JSON: unexpected EOF`,
		`metadata: want a JSON object, got array`,
		`components: want an array, got object`,
	}
	// A first line that is no object stops the input (TestJSONL_ReadFirst):
	// these come after one that is.
	first := `{"to": "447700900099"}` + "\n"
	rows, err := drain(t, producer.NewJSONLSource(strings.NewReader(first+strings.Join(lines, "\n"))))
	require.NoError(t, err)
	require.Len(t, rows, 1+len(lines))
	for i, w := range want {
		require.Equal(t, w, rows[1+i].err, lines[i])
	}
}
