package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/mmlite/mmlite/internal/httpserve"
	"github.com/mmlite/mmlite/internal/progress"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
)

// listLimit is how many campaigns a page of the list shows without a limit
// in its query.
const listLimit = 25

type campaignsView struct {
	view
	State   campaign.State
	States  []campaign.State
	Limit   int // the query's; 0: the console's
	Rows    []campaignRow
	Error   string // what is wrong with the query: no rows are read
	First   string // the first page's URL, with the query's state and limit
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
// store's listing, with the query of GET /v1/campaigns: state, limit,
// cursor). With part=rows, only the table. A query it cannot read, or
// with a name it does not take, is a 400 on the list's page, in the API's
// words.
func (c *Console) campaigns(w http.ResponseWriter, r *http.Request, _ string) {
	v := &campaignsView{view: view{Title: "Campaigns", Nav: "campaigns"}, States: store.States(), First: "/ui/"}
	part := r.URL.Query().Get("part") // which template: read even from a query that is refused
	q, err := httpserve.Query(r.URL.RawQuery)
	if err == nil {
		err = httpserve.Takes(q, "GET /ui/", "state", "limit", "cursor", "part")
	}
	var o store.ListOptions
	if err == nil {
		o, err = httpserve.ListQuery(q)
	}
	v.State = o.State
	if err != nil {
		v.Error = err.Error()
		c.renderList(w, r, http.StatusBadRequest, part, v)
		return
	}
	// Read: its filter holds, even when the list refuses its cursor.
	limit := o.Limit
	v.Limit, v.First = limit, listURL(o.State, limit, "")
	if o.Limit == 0 {
		o.Limit = listLimit
	}
	pg, err := c.store().Campaigns.List(r.Context(), o)
	if errors.Is(err, store.ErrBadCursor) {
		v.Error = httpserve.BadCursor(o.Cursor)
		c.renderList(w, r, http.StatusBadRequest, part, v)
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Paged, v.Refresh = o.Cursor != "", partURL("/ui/", q, "rows")
	for _, st := range pg.Campaigns {
		v.Rows = append(v.Rows, campaignRow{Status: st, Percent: progress.Percent(st.Counts)})
		v.Live = v.Live || !progress.Done(st)
	}
	if pg.NextCursor != "" {
		v.Next = listURL(o.State, limit, pg.NextCursor)
	}
	c.renderList(w, r, http.StatusOK, part, v)
}

// renderList writes the list's page, or with part=rows its rows alone.
func (c *Console) renderList(w http.ResponseWriter, r *http.Request, code int, part string, v *campaignsView) {
	if part == "rows" {
		if !v.Live {
			w.Header().Set("X-Console-Final", "1")
		}
		c.renderPart(w, r, code, "campaigns", "rows", v)
		return
	}
	c.render(w, r, code, "campaigns", v)
}

// listURL is the URL of a page of the list: its state, its limit (0: the
// console's) and its cursor, each when given.
func listURL(state campaign.State, limit int, cursor string) string {
	q := url.Values{}
	if state != "" {
		q.Set("state", string(state))
	}
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if len(q) == 0 {
		return "/ui/"
	}
	return "/ui/?" + q.Encode()
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
