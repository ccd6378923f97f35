package worker_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

func TestWorker_OnePOSTPerRecipientWithTheExactBody(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	yes := true
	header, err := mmapi.NewComponent(map[string]any{"type": "header", "parameters": []any{
		map[string]any{"type": "image", "image": map[string]any{"link": "https://example.com/banner.jpg"}}}})
	require.NoError(t, err)
	c := b.register(t, campaign.Campaign{MessageActivitySharing: &yes, MessageSendTTLSeconds: 86400,
		ProductPolicy: "STRICT", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"},
			Components: []mmapi.Component{header}}})
	tos := testkit.Recipients(25)
	jobs := sends(c.ID, tos)
	for i := range jobs {
		body, err := mmapi.NewComponent(map[string]any{"type": "body", "parameters": []any{
			map[string]any{"type": "text", "parameter_name": "first_name", "text": "Ana"}}})
		require.NoError(t, err)
		jobs[i].Components = []mmapi.Component{body}
		jobs[i].Metadata = map[string]string{"crm_id": tos[i]}
	}
	b.enqueue(t, jobs...)
	b.start(t, b.config())

	results := b.WaitResults(t, len(tos), 20*time.Second)
	require.Len(t, results, len(tos))
	for i, r := range results {
		require.Equal(t, task.StatusSent, r.Status)
		require.Equal(t, tos[i], r.To)
		require.Equal(t, "default", r.Sender)
		require.Contains(t, r.WAMID, "wamid.")
		require.Equal(t, "accepted", r.MessageStatus)
		require.Nil(t, r.Error)
		require.Equal(t, 1, r.Attempts)
		require.Equal(t, map[string]string{"crm_id": tos[i]}, r.Metadata)
		require.Equal(t, 1, b.Fake.Sends(tos[i]), "one POST per recipient")
	}
	reqs := b.Fake.Requests()
	require.Len(t, reqs, len(tos))
	var got, want any
	require.NoError(t, json.Unmarshal(reqs[0].Body, &got))
	require.NoError(t, json.Unmarshal([]byte(`{"messaging_product":"whatsapp","recipient_type":"individual","to":"`+reqs[0].To+`","type":"template",
		"template":{"name":"spring_sale","language":{"policy":"deterministic","code":"pt_BR"},"components":[
		 {"type":"header","parameters":[{"type":"image","image":{"link":"https://example.com/banner.jpg"}}]},
		 {"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Ana"}]}]},
		"message_activity_sharing":true,"message_send_ttl_seconds":86400,"product_policy":"STRICT"}`), &want))
	require.Equal(t, want, got)

	// Generous: Eventually returns as soon as it holds; 30 s is for a loaded machine.
	require.Eventually(t, func() bool { return b.Status(t, c.ID).State == campaign.StateCompleted }, 30*time.Second, 20*time.Millisecond)
	st := b.Status(t, c.ID)
	require.EqualValues(t, len(tos), st.Counts.Sent)
	require.EqualValues(t, len(tos), st.Counts.Enqueued)

	// One campaign event says it is over. It is enqueued after the settle
	// that completed the campaign, so it may come a moment after the state.
	var info *asynq.TaskInfo
	require.Eventually(t, func() bool {
		var err error
		info, err = b.Inspector.GetTaskInfo(b.R.Results, "campaign:"+c.ID+":completed")
		return err == nil
	}, 30*time.Second, 20*time.Millisecond, "no campaign event")
	require.Equal(t, task.TypeCampaign, info.Type)
	var ev task.CampaignEvent
	require.NoError(t, json.Unmarshal(info.Payload, &ev))
	require.Equal(t, string(campaign.StateCompleted), ev.State)
	require.EqualValues(t, len(tos), ev.Counts.Sent)
}

func TestWorker_RetriesAndThrottlingEndInExactlyOneSend(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{Seed: 7, Errors: []fakeapi.ErrorRule{
		{Share: 0.15, Code: 131000},    // 500, transient
		{Share: 0.05, Code: 133004},    // 503 with the provider's code: transient
		{Share: 0.2, Code: 130429},     // throughput
		{Share: 0.05, HTTPStatus: 429}, // throughput with Retry-After
		{Share: 0.05, Code: 131056},    // pair rate: delays only that recipient
	}})
	c := b.register(t, campaign.Campaign{})
	tos := testkit.Recipients(40)
	b.enqueue(t, sends(c.ID, tos)...)
	cfg := b.config()
	b.start(t, cfg)

	results := b.WaitResults(t, len(tos), 60*time.Second)
	for _, r := range results {
		require.Equal(t, task.StatusSent, r.Status, "recipient %s: %+v", r.To, r.Error)
		require.Equal(t, 1, b.Fake.Sends(r.To), "exactly one accepted POST per recipient")
		require.Equal(t, b.Fake.Attempts(r.To), r.Attempts, "attempts counts every POST")
	}
	st := b.Fake.Stats()
	require.Greater(t, st.ByCode["130429"], int64(0), "the fake did throttle")
	require.Zero(t, st.Duplicates)
}

// A gateway's 5xx without the provider's error code may come after the
// request was forwarded: at most once, it is reported unknown, not resent.
func TestWorker_GatewayErrorIsUnknownNotResent(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{Errors: []fakeapi.ErrorRule{{Share: 1, HTTPStatus: 502}}})
	c := b.register(t, campaign.Campaign{})
	tos := testkit.Recipients(2)
	b.enqueue(t, sends(c.ID, tos)...)
	b.start(t, b.config())

	for _, r := range b.WaitResults(t, len(tos), 20*time.Second) {
		require.Equal(t, task.StatusUnknown, r.Status)
		require.Equal(t, 1, r.Attempts)
		require.Equal(t, 1, b.Fake.Attempts(r.To), "no second POST for %s", r.To)
		require.Equal(t, &task.Error{Title: "WhatsApp for Business API not available", HTTPStatus: 502, Class: "ambiguous"}, r.Error)
	}
	require.EqualValues(t, len(tos), b.Status(t, c.ID).Counts.Unknown)
}

func TestWorker_PermanentErrorFailsAtOnce(t *testing.T) {
	t.Parallel()
	tos := testkit.Recipients(3)
	b := setup(t, fakeapi.Config{FailRecipients: map[string]int{tos[1]: 131026}})
	c := b.register(t, campaign.Campaign{})
	b.enqueue(t, sends(c.ID, tos)...)
	b.start(t, b.config())

	results := b.WaitResults(t, 3, 20*time.Second)
	require.Equal(t, task.StatusSent, results[0].Status)
	r := results[1]
	require.Equal(t, task.StatusFailed, r.Status)
	require.Equal(t, &task.Error{Code: 131026, Title: "(#131026) Message undeliverable", Details: r.Error.Details, HTTPStatus: 400, Class: "permanent"}, r.Error)
	require.Equal(t, 1, b.Fake.Attempts(tos[1]), "a permanent error is not retried")
	require.Eventually(t, func() bool {
		info, err := b.Inspector.GetTaskInfo(b.R.Queue, task.SendID(c.ID, tos[1]))
		return err == nil && info.State.String() == "archived"
	}, 30*time.Second, 20*time.Millisecond, "the failed job is archived for inspection") // generous, for a loaded machine
	require.EqualValues(t, 1, b.Status(t, c.ID).Counts.Failed)
}

func TestWorker_ExpiredJobIsNeverSent(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	tos := testkit.Recipients(2)
	jobs := sends(c.ID, tos)
	jobs[0].ExpiresAt = time.Now().Add(-time.Second).Unix()
	b.enqueue(t, jobs...)
	b.start(t, b.config())

	results := b.WaitResults(t, 2, 20*time.Second)
	require.Equal(t, task.StatusExpired, results[0].Status)
	require.Zero(t, results[0].Attempts)
	require.Zero(t, b.Fake.Attempts(tos[0]), "no POST after expires_at")
	require.Equal(t, task.StatusSent, results[1].Status)
}

func TestWorker_RetryIsNeverScheduledPastExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{Errors: []fakeapi.ErrorRule{{Share: 1, Code: 134101}}}) // template syncing: wait 10 minutes
	c := b.register(t, campaign.Campaign{})
	to := testkit.Recipients(1)
	j := sends(c.ID, to)
	j[0].ExpiresAt = time.Now().Add(time.Minute).Unix()
	b.enqueue(t, j...)
	b.start(t, b.config())

	r := b.WaitResults(t, 1, 20*time.Second)[0]
	require.Equal(t, task.StatusExpired, r.Status)
	require.Equal(t, 134101, r.Error.Code)
	require.Equal(t, 1, b.Fake.Attempts(to[0]))
}

func TestWorker_AmbiguousOutcomeIsUnknownAndNotResent(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{Errors: []fakeapi.ErrorRule{{Share: 1, Action: fakeapi.ActionReset}}})
	c := b.register(t, campaign.Campaign{})
	tos := testkit.Recipients(3)
	b.enqueue(t, sends(c.ID, tos)...)
	b.start(t, b.config())

	results := b.WaitResults(t, 3, 20*time.Second)
	for _, r := range results {
		require.Equal(t, task.StatusUnknown, r.Status)
		require.Equal(t, "ambiguous", r.Error.Class)
	}
	time.Sleep(300 * time.Millisecond) // would-be retries have had time to happen
	for _, to := range tos {
		require.Equal(t, 1, b.Fake.Attempts(to), "no second POST after an ambiguous failure")
	}
	require.EqualValues(t, 3, b.Status(t, c.ID).Counts.Unknown)
}

func TestWorker_AtLeastOnceResendsAfterAmbiguousOutcome(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	tos := testkit.Recipients(1)
	require.NoError(t, b.Fake.SetConfig(fakeapi.Config{Keys: []string{testKey}, Errors: []fakeapi.ErrorRule{{Share: 1, Action: fakeapi.ActionReset}}}))
	// The API is fixed below whenever the test gets there, while the worker
	// keeps retrying: 10 attempts take about 2 s, 30 leave a loaded machine
	// several seconds.
	p, err := json.Marshal(sends(c.ID, tos)[0])
	require.NoError(t, err)
	_, err = b.client.Enqueue(asynq.NewTask(task.TypeSend, p), asynq.Queue(b.R.Queue),
		asynq.TaskID(task.SendID(c.ID, tos[0])), asynq.MaxRetry(30))
	require.NoError(t, err)
	require.NoError(t, b.R.Client.HIncrBy(b.Ctx, b.R.Keys.Campaign(c.ID), "enqueued", 1).Err())
	cfg := b.config()
	cfg.AtLeastOnce = true
	b.start(t, cfg)
	require.Eventually(t, func() bool { return b.Fake.Attempts(tos[0]) >= 2 }, 30*time.Second, 10*time.Millisecond) // generous, for a loaded machine
	require.NoError(t, b.Fake.SetConfig(fakeapi.Config{Keys: []string{testKey}}))
	r := b.WaitResults(t, 1, 20*time.Second)[0]
	require.Equal(t, task.StatusSent, r.Status)
	require.GreaterOrEqual(t, r.Attempts, 3)
}

// A job whose template parameter is blank (a job enqueued before intake
// refused one, or built past its check) was accepted by the fake API and
// counted as sent, where the API answers 400 with error 100: a test saw a
// success production never gives. The fake refuses it as the API does,
// and the recipient fails at once, naming the parameter.
func TestWorker_BlankParameterFailsAsTheAPIAnswers(t *testing.T) {
	t.Parallel()
	tos := testkit.Recipients(2)
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	jobs := sends(c.ID, tos)
	blank, err := mmapi.NewComponent(map[string]any{"type": "body", "parameters": []any{
		map[string]any{"type": "text", "parameter_name": "first_name", "text": " "}}})
	require.NoError(t, err)
	jobs[1].Components = []mmapi.Component{blank}
	b.enqueue(t, jobs...)
	b.start(t, b.config())

	results := b.WaitResults(t, 2, 20*time.Second)
	require.Equal(t, task.StatusSent, results[0].Status)
	r := results[1]
	require.Equal(t, task.StatusFailed, r.Status, "%+v", r)
	require.Equal(t, &task.Error{Code: 100, Title: "(#100) Invalid parameter",
		Details: "Param template.components[0].parameters[0].text must not be blank", HTTPStatus: 400, Class: "permanent"}, r.Error)
	require.Equal(t, 1, b.Fake.Attempts(tos[1]), "a permanent error is not retried")
}
