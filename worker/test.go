package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
)

// testWait is the longest a test send waits for a slot of its sender.
const testWait = 10 * time.Second

// testMark is how long a test send's mark is kept: as long as its task
// (see producer.TestSend).
const testMark = time.Hour

// test sends one test message of a campaign's template (task.TypeTest),
// outside the campaign's ledger and counts, at the sender's rate, and
// writes the API's answer as the task's result for the api or CLI that
// waits for it. The worker holds the keys: the test needs no other place
// to have them. It is never retried: its answer, whatever it is, is the
// result. Its error answer protects the sender as a campaign's would.
func (w *Worker) test(ctx context.Context, t *asynq.Task) error {
	var ts task.TestSend
	if err := json.Unmarshal(t.Payload(), &ts); err != nil || ts.Campaign == "" || ts.To == "" {
		w.m.badJobs.WithLabelValues(badPayload).Inc()
		return fmt.Errorf("bad test send: %w", asynq.SkipRetry)
	}
	res := task.TestResult{CampaignID: ts.Campaign, To: ts.To, Sender: ts.Sender, Status: task.StatusFailed}
	w.testSend(ctx, &ts, &res)
	w.log.Info("test send", "campaign", ts.Campaign, "to", phone.Mask(ts.To), "sender", ts.Sender, "status", res.Status)
	b, _ := json.Marshal(res)
	if _, err := t.ResultWriter().Write(b); err != nil {
		return err
	}
	return nil
}

func (w *Worker) testSend(ctx context.Context, ts *task.TestSend, res *task.TestResult) {
	fail := func(class, title string) { res.Error = &task.Error{Class: class, Title: title} }
	snd := w.senders[ts.Sender]
	if snd == nil {
		fail(task.ClassBadJob, fmt.Sprintf("sender %q is not configured in the worker that took the test send", ts.Sender))
		return
	}
	c, err := w.campaigns.get(ctx, ts.Campaign)
	if err != nil {
		fail(task.ClassBadJob, "campaign "+ts.Campaign+" could not be read: "+err.Error())
		return
	}
	wait, ok, err := w.limiter.Reserve(ctx, snd.ID, testWait)
	switch {
	case err != nil:
		fail(mmapi.ClassTransient.String(), "the sender's rate limit could not be read: "+err.Error())
		return
	case !ok:
		fail(mmapi.ClassThroughput.String(), fmt.Sprintf("the sender has no free send slot within %s: try again", testWait))
		return
	}
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		fail(mmapi.ClassTransient.String(), "the worker stopped before the test send")
		return
	}
	// Outside the ledger, a test send is marked before its call: a run
	// taken over from one that may have made it (its worker died or lost
	// its lease) does not send again.
	id, _ := asynq.GetTaskID(ctx)
	first, err := w.rdb.SetNX(ctx, w.keys.TestSent(id), 1, testMark).Result()
	switch {
	case err != nil:
		fail(mmapi.ClassTransient.String(), "the test send could not be marked in Redis; nothing was sent: "+err.Error())
		return
	case !first:
		res.Status = task.StatusUnknown
		res.Error = &task.Error{Class: mmapi.ClassAmbiguous.String(),
			Title: "an earlier run of this test send did not finish (worker stopped or lease lost); it may have been sent, and is not sent again"}
		return
	}
	w.m.inflight.Inc()
	resp, err := w.client.Send(ctx, snd.Endpoint(), c.Message(ts.To, ts.Components))
	w.m.inflight.Dec()
	if err == nil {
		w.m.requests.WithLabelValues(snd.ID, mmapi.ClassOK.String()).Inc()
		res.Status, res.WAMID, res.MessageStatus = task.StatusSent, resp.WAMID(), resp.MessageStatus()
		return
	}
	// What the answer says beyond this message holds for the campaigns too:
	// an opt-out suppresses the number, a locked account pauses the sender,
	// a paused template pauses the template (see protect).
	j := &job{send: &task.Send{Campaign: ts.Campaign, Sender: ts.Sender, To: ts.To}, sender: snd, campaign: c}
	e := w.answered(ctx, j, err)
	if e.Class == mmapi.ClassThroughput {
		w.limiter.Throttled(ctx, snd.ID, e.RetryAfter)
	}
	if e.Class == mmapi.ClassAmbiguous {
		res.Status = task.StatusUnknown
	}
	res.Error = task.ErrorFrom(e)
}
