package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/pkg/sender"
)

type sendersView struct {
	view
	Flash   string
	Senders []senderRow
}

type senderRow struct {
	*guard.SenderView
	Onboarding string // onboarded, not onboarded, or not required
}

// sendersPage: every published sender with its rate, throttling,
// onboarding, messaging limit use and guard pause (the guard's view, as
// GET /v1/senders).
func (c *Console) sendersPage(w http.ResponseWriter, r *http.Request, sess string) {
	views, err := c.guard().SenderViews(r.Context(), c.senders)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := &sendersView{view: view{Title: "Senders", Nav: "senders"}}
	for _, sv := range views {
		row := senderRow{SenderView: sv, Onboarding: "not required"}
		if sv.Onboarded != nil {
			row.Onboarding = map[bool]string{true: "onboarded", false: "not onboarded"}[*sv.Onboarded]
		}
		v.Senders = append(v.Senders, row)
	}
	v.Flash = c.takeFlash(w, r, sess)
	c.render(w, r, http.StatusOK, "senders", v)
}

// published is the sender of the path, as workers published it.
func (c *Console) published(ctx context.Context, id string) (sender.Published, error) {
	p, err := c.senders.Published(ctx, id)
	if errors.Is(err, registry.ErrNotPublished) {
		return p, notFound{err.Error()}
	}
	return p, err
}

func (c *Console) confirmPauseSender(w http.ResponseWriter, r *http.Request, _ string) {
	p, err := c.published(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "confirm", &confirmView{view: view{Title: "Pause " + p.ID + "?", Nav: "senders"},
		Question: "Pause the sender " + p.ID + "?",
		Details: []string{"Every running campaign of " + p.ID + " is paused now, and any other of it at its next send, until you resume the sender.",
			"Resuming it resumes the campaigns this pause stopped (not those paused otherwise)."},
		Action: "/ui/senders/" + url.PathEscape(p.ID) + "/pause", Button: "Pause the sender", Back: "/ui/senders"})
}

// pauseSender: without confirm=yes, the confirmation; with it, the
// operator's pause (the guard's, as POST /v1/senders/{id}/pause).
func (c *Console) pauseSender(w http.ResponseWriter, r *http.Request, sess string) {
	if r.PostFormValue("confirm") != "yes" {
		c.confirmPauseSender(w, r, sess)
		return
	}
	p, err := c.published(r.Context(), r.PathValue("id"))
	if err == nil {
		_, err = c.guard().PauseSender(r.Context(), p.ID, guard.ReasonOperator, 0, guard.SourceConsole)
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log.Info("console: sender paused", "sender", p.ID)
	c.redirect(w, r, sess, "/ui/senders", nil, "Sender "+p.ID+" paused: its running campaigns are paused.")
}

// resumeSender lets the sender send again and resumes the campaigns its
// guard paused (as POST /v1/senders/{id}/resume).
func (c *Console) resumeSender(w http.ResponseWriter, r *http.Request, sess string) {
	p, err := c.published(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	resumed, err := c.guard().ResumeSender(r.Context(), p.ID, c.cfg.Producer.ResumeFrom)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log.Info("console: sender resumed", "sender", p.ID, "campaigns_resumed", len(resumed))
	c.redirect(w, r, sess, "/ui/senders", nil, "Sender "+p.ID+" resumed: the campaigns its pause stopped resume.")
}
