package task_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// The wire JSON is pinned: producers and workers of different versions meet in Redis.
func TestSend_Wire(t *testing.T) {
	t.Parallel()
	body, err := mmapi.NewComponent(map[string]any{"type": "body", "parameters": []any{map[string]any{"type": "text", "text": "Ana"}}})
	require.NoError(t, err)
	s := task.Send{Campaign: "spring", To: "441234567890", Components: []mmapi.Component{body},
		Metadata: map[string]string{"crm_id": "42"}, ExpiresAt: 1764151200}
	b, err := json.Marshal(s)
	require.NoError(t, err)
	require.JSONEq(t, `{"c":"spring","to":"441234567890","p":[{"type":"body","parameters":[{"type":"text","text":"Ana"}]}],"m":{"crm_id":"42"},"e":1764151200}`, string(b))

	got, err := task.DecodeSend([]byte(`{"c":"spring","s":"eu","to":"441234567890","e":1764151200}`))
	require.NoError(t, err)
	require.Equal(t, "eu", got.SenderID())
	require.True(t, got.Expired(time.Unix(1764151200, 0)))
	require.False(t, got.Expired(time.Unix(1764151199, 0)))
	require.Equal(t, "default", (&task.Send{}).SenderID())
	require.False(t, (&task.Send{}).Expired(time.Now()))

	for _, bad := range []string{`{`, `{"c":"x"}`, `{"to":"1"}`, `[]`, `{"c":1,"to":"2"}`} {
		_, err := task.DecodeSend([]byte(bad))
		require.Error(t, err, bad)
	}
}

func TestResult_Wire(t *testing.T) {
	t.Parallel()
	r := task.Result{CampaignID: "spring-sale-2026", To: "441234567890", Sender: "default", Status: task.StatusSent,
		WAMID: "wamid.HBgL", MessageStatus: "accepted", Attempts: 1,
		FinishedAt: time.Date(2026, 11, 25, 10, 0, 1, 0, time.UTC), Metadata: map[string]string{"crm_id": "42"}}
	b, err := json.Marshal(r)
	require.NoError(t, err)
	require.JSONEq(t, `{"campaign_id": "spring-sale-2026", "to": "441234567890", "sender": "default",
	   "status": "sent", "wamid": "wamid.HBgL", "message_status": "accepted",
	   "error": null, "attempts": 1, "finished_at": "2026-11-25T10:00:01Z", "metadata": {"crm_id": "42"}}`, string(b))

	e := task.ErrorFrom(&mmapi.Error{Class: mmapi.ClassPermanent, HTTPStatus: 400, Code: 131026, HasCode: true, Title: "Message undeliverable", Details: "d"})
	b, err = json.Marshal(e)
	require.NoError(t, err)
	require.JSONEq(t, `{"code": 131026, "title": "Message undeliverable", "details": "d", "http_status": 400, "class": "permanent"}`, string(b))
	require.Nil(t, task.ErrorFrom(nil))
}

func TestCounts(t *testing.T) {
	t.Parallel()
	c := task.Counts{Enqueued: 10, Sent: 3, Failed: 2, Expired: 1, Cancelled: 1, Unknown: 1, Delivered: 3, Read: 2, Fallback: 1}
	require.EqualValues(t, 8, c.Final())
	b, err := json.Marshal(c)
	require.NoError(t, err)
	require.JSONEq(t, `{"enqueued":10,"sent":3,"failed":2,"expired":1,"cancelled":1,"unknown":1,"delivered":3,"read":2,"fallback":1,"undelivered":0,"suppressed":0}`, string(b))
}

// The campaign event's wire JSON is pinned: a paused one carries the
// reason and the error the campaign status shows (Meta's code behind the
// pause), a final one neither.
func TestCampaignEvent_Wire(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 25, 10, 0, 1, 0, time.UTC)
	counts := `{"enqueued":10,"sent":3,"failed":0,"expired":0,"cancelled":0,"unknown":0,"suppressed":0,"delivered":0,"read":0,"fallback":0,"undelivered":0}`
	paused := task.CampaignEvent{CampaignID: "spring-sale-2026", State: "paused", Reason: "template_paused: FLAGGED",
		Error: &task.Error{Code: 132015, Title: "template_paused: FLAGGED"}, Counts: task.Counts{Enqueued: 10, Sent: 3}, FinishedAt: at}
	b, err := json.Marshal(paused)
	require.NoError(t, err)
	require.JSONEq(t, `{"campaign_id": "spring-sale-2026", "state": "paused", "reason": "template_paused: FLAGGED",
	   "error": {"code": 132015, "title": "template_paused: FLAGGED", "details": "", "http_status": 0},
	   "counts": `+counts+`, "finished_at": "2026-11-25T10:00:01Z"}`, string(b))

	completed := task.CampaignEvent{CampaignID: "spring-sale-2026", State: "completed", Counts: task.Counts{Enqueued: 10, Sent: 3}, FinishedAt: at}
	b, err = json.Marshal(completed)
	require.NoError(t, err)
	require.JSONEq(t, `{"campaign_id": "spring-sale-2026", "state": "completed", "counts": `+counts+`,
	   "finished_at": "2026-11-25T10:00:01Z"}`, string(b))
}
