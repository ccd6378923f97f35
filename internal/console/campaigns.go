package console

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/mmlite/mmlite/internal/progress"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
)

// listLimit is how many campaigns a page of the list shows.
const listLimit = 25

type campaignsView struct {
	view
	State   campaign.State
	States  []campaign.State
	Rows    []campaignRow
	Next    string // the next page's URL; "" on the last
	Paged   bool   // not the first page
	Refresh string // the URL of this page's rows, for the live updates
	Live    bool   // some campaign on the page is not over
}

type campaignRow struct {
	*campaign.Status
	Percent int
}

// campaigns: the list, newest first, by state, a page at a time (the
// store's listing, as GET /v1/campaigns). With part=rows, only the table.
func (c *Console) campaigns(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	o := store.ListOptions{State: campaign.State(q.Get("state")), Cursor: q.Get("cursor"), Limit: listLimit}
	if store.CheckState(o.State) != nil {
		c.errorPage(w, r, http.StatusBadRequest, "state "+string(o.State)+" is not a campaign state")
		return
	}
	pg, err := c.store().Campaigns.List(r.Context(), o)
	if errors.Is(err, store.ErrBadCursor) {
		c.errorPage(w, r, http.StatusBadRequest, "this page's cursor is not one the list gave: start again from the first page")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := &campaignsView{view: view{Title: "Campaigns", Nav: "campaigns"}, State: o.State, States: store.States(),
		Paged: o.Cursor != "", Refresh: partURL("/ui/", q, "rows")}
	for _, st := range pg.Campaigns {
		v.Rows = append(v.Rows, campaignRow{Status: st, Percent: progress.Percent(st.Counts)})
		v.Live = v.Live || !progress.Done(st)
	}
	if pg.NextCursor != "" {
		nq := url.Values{"cursor": {pg.NextCursor}}
		if o.State != "" {
			nq.Set("state", string(o.State))
		}
		v.Next = "/ui/?" + nq.Encode()
	}
	if q.Get("part") == "rows" {
		if !v.Live {
			w.Header().Set("X-Console-Final", "1")
		}
		c.renderPart(w, r, http.StatusOK, "campaigns", "rows", v)
		return
	}
	c.render(w, r, http.StatusOK, "campaigns", v)
}

// partURL is the URL of one part of a page, for the live updates.
func partURL(path string, q url.Values, part string) string {
	p := url.Values{}
	for k, v := range q {
		p[k] = v
	}
	p.Set("part", part)
	return path + "?" + p.Encode()
}
