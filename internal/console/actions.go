package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/mmlite/mmlite/internal/ident"
	"github.com/mmlite/mmlite/internal/results"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
)

// back goes to the campaign's page with a flash of what was done.
func (c *Console) back(w http.ResponseWriter, r *http.Request, sess, id, done string) {
	c.redirect(w, r, sess, "/ui/campaigns/"+url.PathEscape(id), nil, done)
}

// control runs pause, resume or seal (the producer's, as the API's
// POST /v1/campaigns/{id}/pause|resume|seal), and says done.
func (c *Console) control(op func(context.Context, string) (*campaign.Status, error), done string) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, sess string) {
		id := r.PathValue("id")
		if _, err := op(r.Context(), id); err != nil {
			c.fail(w, r, err)
			return
		}
		c.back(w, r, sess, id, done)
	}
}

// confirmView asks before an action that cannot be undone: its form posts
// the same fields again, with confirm=yes.
type confirmView struct {
	view
	ID       string
	Question string
	Details  []string
	Action   string // the form's URL
	Button   string
	Back     string // where "No" goes; "" is the campaign's page
	Fields   []field
}

type field struct{ Name, Value string }

func (c *Console) confirmCancel(w http.ResponseWriter, r *http.Request, _ string) {
	id := r.PathValue("id")
	st, err := c.store().Campaigns.Status(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "confirm", &confirmView{view: view{Title: "Cancel " + id + "?", Nav: "campaigns"}, ID: id,
		Question: "Cancel the campaign " + id + "?",
		Details: []string{"It cannot be undone: no further message of it is sent, and every recipient not sent yet (" +
			strconv.FormatInt(max(0, st.Counts.Enqueued-st.Counts.Final()), 10) + ") is reported cancelled."},
		Action: "/ui/campaigns/" + url.PathEscape(id) + "/cancel", Button: "Cancel the campaign"})
}

// cancel: without confirm=yes, the confirmation; with it, the cancel.
func (c *Console) cancel(w http.ResponseWriter, r *http.Request, sess string) {
	if r.PostFormValue("confirm") != "yes" {
		c.confirmCancel(w, r, sess)
		return
	}
	id := r.PathValue("id")
	_, err := c.cfg.Producer.Cancel(r.Context(), id)
	var inFlight *producer.InFlightError
	switch {
	case errors.As(err, &inFlight): // the cancel took effect; the page says how many sends it left in flight
		c.back(w, r, sess, id, cancelledInFlight(inFlight))
	case err != nil:
		c.fail(w, r, err)
	default:
		c.back(w, r, sess, id, flashCancelled)
	}
}

func (c *Console) confirmSeal(w http.ResponseWriter, r *http.Request, _ string) {
	id := r.PathValue("id")
	if _, err := c.store().Campaigns.Status(r.Context(), id); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "confirm", &confirmView{view: view{Title: "Seal " + id + "?", Nav: "campaigns"}, ID: id,
		Question: "Seal the campaign " + id + "?",
		Details: []string{"It cannot be undone: the campaign takes no new recipients (any still being uploaded are rejected), " +
			"and it completes once every recipient it has is final."},
		Action: "/ui/campaigns/" + url.PathEscape(id) + "/seal", Button: "Seal the campaign"})
}

// seal: without confirm=yes, the confirmation; with it, the seal.
func (c *Console) seal(w http.ResponseWriter, r *http.Request, sess string) {
	if r.PostFormValue("confirm") != "yes" {
		c.confirmSeal(w, r, sess)
		return
	}
	c.control(c.cfg.Producer.Seal, flashSealed)(w, r, sess)
}

type followUpView struct {
	view
	ID       string
	NewID    string
	Statuses []option
	Codes    string
	Unknown  bool
	Error    string
}

type option struct {
	Value   string
	Checked bool
}

// followStatuses are what a follow-up may take (unknown is a field of its
// own: those recipients may have received the first message).
var followStatuses = slices.DeleteFunc(slices.Clone(producer.Followable), func(s string) bool { return s == task.StatusUnknown })

func (c *Console) followUpForm(w http.ResponseWriter, r *http.Request, _ string) {
	id := r.PathValue("id")
	if _, err := c.store().Campaigns.Status(r.Context(), id); err != nil {
		c.fail(w, r, err)
		return
	}
	v := &followUpView{view: view{Title: "Follow up " + id, Nav: "campaigns"}, ID: id, NewID: followUpID(id)}
	for _, s := range followStatuses {
		v.Statuses = append(v.Statuses, option{Value: s, Checked: s != task.StatusCancelled})
	}
	c.render(w, r, http.StatusOK, "followup", v)
}

// followUpID is the id the form proposes for a follow-up of id: id with
// "-followup", id cut to fit ident.MaxLen (and without a '.' it was cut
// at), so that the form accepts its own proposal.
func followUpID(id string) string {
	const suffix = "-followup"
	if len(id)+len(suffix) > ident.MaxLen {
		id = strings.TrimRight(id[:ident.MaxLen-len(suffix)], ".")
	}
	return id + suffix
}

// followUp: the form, checked, then its confirmation, then the producer's
// follow-up (as POST /v1/campaigns/{id}/follow-up).
func (c *Console) followUp(w http.ResponseWriter, r *http.Request, sess string) {
	id := r.PathValue("id")
	if _, err := c.store().Campaigns.Status(r.Context(), id); err != nil { // as the form: no confirmation for no campaign
		c.fail(w, r, err)
		return
	}
	f, v, err := readFollowUp(r)
	if err != nil {
		v.view = view{Title: "Follow up " + id, Nav: "campaigns"}
		v.ID, v.Error = id, err.Error()
		c.render(w, r, http.StatusBadRequest, "followup", v)
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		fields := []field{{"new_id", f.ID}, {"codes", v.Codes}}
		for _, s := range f.Statuses {
			fields = append(fields, field{"status", s})
		}
		what := strings.Join(f.Statuses, ", ")
		if f.IncludeUnknown {
			fields = append(fields, field{"include_unknown", "yes"})
			what += ", unknown"
		}
		if v.Codes != "" {
			what += " with the error codes " + v.Codes
		}
		c.render(w, r, http.StatusOK, "confirm", &confirmView{view: view{Title: "Follow up " + id + "?", Nav: "campaigns"}, ID: id,
			Question: "Send the follow-up campaign " + f.ID + "?",
			Details: []string{"It takes the recipients of " + id + " whose outcome is " + what + " (never one whose message was delivered or read), with their own parameters, and starts sending at once with the same template and sender.",
				"It cannot be undone: cancel the new campaign to stop it."},
			Action: "/ui/campaigns/" + url.PathEscape(id) + "/follow-up", Button: "Send the follow-up", Fields: fields})
		return
	}
	if _, err := c.cfg.Producer.FollowUp(r.Context(), id, f); err != nil {
		// Refused for what the form holds (an id another campaign has):
		// the form again, as it was filled.
		c.refuse(w, r, err, "followup", func(msg, _ string) (page, error) {
			v.view = view{Title: "Follow up " + id, Nav: "campaigns"}
			v.ID, v.Error = id, msg
			return v, nil
		})
		return
	}
	c.back(w, r, sess, f.ID, flashFollowed)
}

// readFollowUp reads the follow-up form, and the form's view to show it
// again.
func readFollowUp(r *http.Request) (producer.FollowUp, *followUpView, error) {
	f := producer.FollowUp{ID: strings.TrimSpace(r.PostFormValue("new_id")), IncludeUnknown: r.PostFormValue("include_unknown") == "yes"}
	v := &followUpView{NewID: f.ID, Codes: strings.TrimSpace(r.PostFormValue("codes")), Unknown: f.IncludeUnknown}
	picked := map[string]bool{}
	for _, s := range r.PostForm["status"] {
		picked[s] = true
	}
	for _, s := range followStatuses {
		v.Statuses = append(v.Statuses, option{Value: s, Checked: picked[s]})
		if picked[s] {
			f.Statuses = append(f.Statuses, s)
		}
	}
	codes, err := results.ParseCodes([]string{v.Codes})
	if err != nil {
		return f, v, formError{msg: "error codes: " + err.Error()}
	}
	f.Codes = codes
	switch {
	case f.ID == "":
		return f, v, formError{msg: "new campaign id: it is required"}
	case !ident.Valid(f.ID): // as the campaign's own check says, before the confirmation
		return f, v, formError{msg: fmt.Sprintf("new campaign id: it must be %s, got %s", ident.Rule, ident.Quote(f.ID))}
	case len(f.Statuses) == 0 && !f.IncludeUnknown: // in the form's words: Validate names API fields
		return f, v, formError{msg: "outcomes: pick at least one"}
	}
	if err := f.Validate(); err != nil {
		return f, v, formError{msg: err.Error()}
	}
	return f, v, nil
}

type testView struct {
	view
	ID     string
	To     string
	Result *task.TestResult
}

// testSend sends one message of the campaign's template to one number
// (the producer's test send, as POST /v1/campaigns/{id}/test) and shows
// the API's answer. A number refused shows the campaign's page again, with
// the form as it was filled.
func (c *Console) testSend(w http.ResponseWriter, r *http.Request, _ string) {
	id, to := r.PathValue("id"), r.PostFormValue("to")
	res, err := c.cfg.Producer.TestSend(r.Context(), id, producer.Recipient{To: to}, producer.DefaultTestWait)
	if err != nil {
		c.refuse(w, r, err, "campaign", func(msg, _ string) (page, error) {
			v, err := c.campaignPage(r, id, url.Values{})
			if err != nil {
				return nil, err
			}
			v.Test = testForm{To: to, Error: msg}
			return v, nil
		})
		return
	}
	c.render(w, r, http.StatusOK, "test", &testView{view: view{Title: "Test send of " + id, Nav: "campaigns"}, ID: id,
		To: res.To, Result: res})
}
