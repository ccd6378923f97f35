package console

import (
	"net/http"
	"slices"

	"github.com/mmlite/mmlite/internal/results"
	"github.com/mmlite/mmlite/pkg/task"
)

type exportOption struct {
	Value   string
	Checked bool
}

// exportOptions are the outcomes the export form offers, the failed ones
// checked.
func exportOptions() []exportOption {
	var out []exportOption
	for _, s := range results.Statuses() {
		out = append(out, exportOption{Value: s, Checked: slices.Contains([]string{task.StatusFailed, task.StatusExpired,
			task.StatusUnknown, results.Undelivered}, s)})
	}
	return out
}

// export: the campaign's results with the statuses and codes asked for, as
// the CSV of GET /v1/campaigns/{id}/results (Accept: text/csv), which
// mmlite enqueue reads again.
func (c *Console) export(w http.ResponseWriter, r *http.Request, _ string) {
	ctx := r.Context()
	camp, err := c.store().Campaigns.Get(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	f, err := results.ParseFilter(q["status"], q["code"])
	if err != nil {
		c.errorPage(w, r, http.StatusBadRequest, err.Error())
		return
	}
	started, err := results.ServeCSV(ctx, w, c.store(), camp.ID, f)
	switch {
	case err == nil:
	case !started:
		c.fail(w, r, err)
	default:
		c.log.Error("console: results export broken off", "campaign", camp.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
}
