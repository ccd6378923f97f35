package console

import (
	"context"
	"sort"
	"strconv"

	"github.com/mmlite/mmlite/internal/results"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
)

// tallyMax is the largest campaign (in final recipients) whose error codes
// the page counts on every view: counting reads the whole ledger. A larger
// one's are counted when the operator asks.
const tallyMax = 100_000

// sampleSize is how many failed recipients the page lists.
const sampleSize = 20

type tally struct {
	Codes   []codeRow
	Samples []sampleRow
	More    bool // more failures than Samples lists
}

// codeRow counts the outcomes of one error: the send's (status failed,
// expired or unknown) or a failed delivery's (a webhook's).
type codeRow struct {
	Source  string // "send" or "delivery"
	Status  string
	Code    int
	Class   string
	Meaning string
	Title   string
	Count   int64
}

type sampleRow struct {
	To       string
	Status   string
	Error    *task.Error
	Metadata map[string]string
}

// tally counts the campaign's failed sends by status and error (from its
// ledger, as the results export reads it) and its failed deliveries by
// code (from its status), each with what its class means.
func (c *Console) tally(ctx context.Context, id string, st *campaign.Status) (*tally, error) {
	t := &tally{}
	f := results.Filter{Statuses: map[string]bool{task.StatusFailed: true, task.StatusExpired: true, task.StatusUnknown: true}}
	byKey := map[string]*codeRow{}
	err := results.Each(ctx, c.store(), id, f, false, func(items []results.Item) error {
		for _, it := range items {
			o := it.Outcome
			row := codeRow{Source: "send", Status: o.Status}
			if e := o.Error; e != nil {
				row.Code, row.Class, row.Title = e.Code, e.Class, e.Title
			}
			k := row.Status + "|" + strconv.Itoa(row.Code) + "|" + row.Class
			if byKey[k] == nil {
				row.Meaning = classMeaning(row.Class)
				byKey[k] = &row
			}
			byKey[k].Count++
			if len(t.Samples) < sampleSize {
				t.Samples = append(t.Samples, sampleRow{To: it.To, Status: o.Status, Error: o.Error, Metadata: o.Metadata})
			} else {
				t.More = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, r := range byKey {
		t.Codes = append(t.Codes, *r)
	}
	for code, n := range st.DeliveryErrors {
		row := codeRow{Source: "delivery", Status: "undelivered", Count: n}
		row.Code, _ = strconv.Atoi(code)
		if cl, ok := mmapi.ClassOfCode(row.Code); ok {
			row.Class, row.Meaning = cl.String(), cl.Meaning()
		}
		t.Codes = append(t.Codes, row)
	}
	sort.Slice(t.Codes, func(i, j int) bool {
		a, b := t.Codes[i], t.Codes[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Source+a.Status+strconv.Itoa(a.Code) < b.Source+b.Status+strconv.Itoa(b.Code)
	})
	return t, nil
}

// classMeaning is what a class (by its name in a result) means.
func classMeaning(name string) string {
	if name == task.ClassBadJob {
		return "the job could not be sent at all (undecodable, unknown sender or campaign)"
	}
	for _, cl := range mmapi.Classes() {
		if cl.String() == name {
			return cl.Meaning()
		}
	}
	return ""
}
