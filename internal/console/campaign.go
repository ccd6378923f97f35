package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/internal/progress"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/producer"
)

type campaignView struct {
	view
	St      *campaign.Status
	Done    bool
	Percent int
	Funnel  []funnelStep
	// DeliveryRatio is delivered of sent; ReadRatio read of delivered.
	DeliveryRatio, ReadRatio string
	Outcomes                 []countRow
	Clicks                   int64
	Chart                    chart
	Tally                    *tally // nil when not read (see tallyMax)
	TallyURL                 string
	Lookup                   *lookupView
	ShowNumbers              bool
	NumbersURL               string // the page with the numbers' display toggled
	Flash                    string
	Refresh                  string
	Export                   []exportOption
	Test                     testForm
}

// testForm is the test send's form as the operator filled it, and why it
// was refused.
type testForm struct{ To, Error string }

type funnelStep struct {
	Name    string
	Count   int64
	Percent int // of the enqueued
	Note    string
}

type countRow struct {
	Name  string
	Count int64
}

// The flashes a campaign's actions leave for its page.
const (
	flashPaused    = "The campaign is paused."
	flashResumed   = "The campaign is resumed."
	flashSealed    = "The campaign is sealed: it takes no new recipients."
	flashCancelled = "The campaign is cancelled."
	flashFollowed  = "The follow-up campaign is registered and sealed."
)

// cancelledInFlight is the flash of a cancel that left sends in flight:
// how many, and after how long a wait, as the API's detail.
func cancelledInFlight(e *producer.InFlightError) string {
	d := e.Detail()
	return strings.ToUpper(d[:1]) + d[1:] + "."
}

// campaign: one campaign's page. Its query: numbers=shown shows numbers
// unmasked, to= looks a recipient up, tally=all counts the error codes of
// a large campaign. It shows the flash of the action just done.
func (c *Console) campaign(w http.ResponseWriter, r *http.Request, sess string) {
	v, err := c.campaignPage(r, r.PathValue("id"), r.URL.Query())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v.Flash = c.takeFlash(w, r, sess)
	c.render(w, r, http.StatusOK, "campaign", v)
}

// campaignPage reads the page of the campaign id with the query q.
func (c *Console) campaignPage(r *http.Request, id string, q url.Values) (*campaignView, error) {
	v, err := c.live(r, id)
	if err != nil {
		return nil, err
	}
	v.Title, v.Nav = "Campaign "+id, "campaigns"
	v.ShowNumbers = q.Get("numbers") == "shown"
	v.NumbersURL = toggleNumbers(&url.URL{Path: "/ui/campaigns/" + url.PathEscape(id), RawQuery: q.Encode()}, v.ShowNumbers)
	v.Export = exportOptions()
	if v.St.Counts.Final() <= tallyMax || q.Get("tally") == "all" {
		if v.Tally, err = c.tally(r.Context(), id, v.St); err != nil {
			return nil, err
		}
	} else {
		tq := url.Values{"tally": {"all"}}
		v.TallyURL = "/ui/campaigns/" + url.PathEscape(id) + "?" + tq.Encode()
	}
	if to := q.Get("to"); to != "" {
		v.Lookup = c.lookup(r, id, to)
	}
	return v, nil
}

// campaignLive: the live part of the campaign's page alone, for the
// script's polling; the X-Console-Final header says it will not change.
func (c *Console) campaignLive(w http.ResponseWriter, r *http.Request, _ string) {
	v, err := c.live(r, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if v.Done {
		w.Header().Set("X-Console-Final", "1")
	}
	c.renderPart(w, r, http.StatusOK, "campaign", "live", v)
}

// live reads what the live part shows: the status (as GET
// /v1/campaigns/{id}), the funnel, the rate history.
func (c *Console) live(r *http.Request, id string) (*campaignView, error) {
	ctx := r.Context()
	st, hist, err := c.store().Campaigns.LiveWithRates(ctx, id)
	if err != nil {
		return nil, err
	}
	clicks, err := c.senders.Clicks(ctx, st.Sender)
	if err != nil {
		return nil, err
	}
	v := &campaignView{St: st, Done: progress.Done(st), Percent: progress.Percent(st.Counts), Chart: newChart(hist),
		Refresh: "/ui/campaigns/" + url.PathEscape(id) + "/live"}
	for _, n := range clicks {
		v.Clicks += n
	}
	n := st.Counts
	v.Funnel = []funnelStep{
		{Name: "Enqueued", Count: n.Enqueued, Percent: percentOf(n.Enqueued, n.Enqueued)},
		{Name: "Sent", Count: n.Sent, Percent: percentOf(n.Sent, n.Enqueued)},
		{Name: "Delivered", Count: n.Delivered, Percent: percentOf(n.Delivered, n.Enqueued)},
		{Name: "Read", Count: n.Read, Percent: percentOf(n.Read, n.Enqueued)},
		{Name: "Clicked", Count: v.Clicks, Percent: percentOf(v.Clicks, n.Enqueued),
			Note: "Clicked counts the link clicks of the sender " + st.Sender + " over the retention: a click names no message, so no campaign."},
	}
	v.DeliveryRatio, v.ReadRatio = ratio(n.Delivered, n.Sent), ratio(n.Read, n.Delivered)
	v.Outcomes = []countRow{{"sent", n.Sent}, {"failed", n.Failed}, {"expired", n.Expired}, {"cancelled", n.Cancelled},
		{"unknown", n.Unknown}, {"suppressed", n.Suppressed}, {"not final yet", max(0, n.Enqueued-n.Final())}, {"undelivered (sent, then reported failed)", n.Undelivered},
		{"fallback (sent through the Cloud API)", n.Fallback}}
	return v, nil
}

// toggleNumbers is the page's URL with the numbers shown or masked.
func toggleNumbers(u *url.URL, shown bool) string {
	q := u.Query()
	if shown {
		q.Del("numbers")
	} else {
		q.Set("numbers", "shown")
	}
	out := u.Path
	if len(q) > 0 {
		out += "?" + q.Encode()
	}
	return out
}

type lookupView struct {
	Query string
	Error string
	W     *store.Whereabouts
}

// lookup finds a recipient of the campaign (as GET
// /v1/campaigns/{id}/recipients/{to}).
func (c *Console) lookup(r *http.Request, id, to string) *lookupView {
	lv := &lookupView{Query: to}
	n, err := phone.Normalize(to)
	if err != nil {
		lv.Error = err.Error()
		return lv
	}
	if lv.W, err = c.store().Recipient(r.Context(), id, n); err != nil {
		code, msg := c.classify(err)
		if code == http.StatusInternalServerError {
			c.log.Error("console: recipient lookup", "err", err)
			msg = "internal error (see the api's log)"
		}
		lv.Error = msg
	}
	return lv
}
