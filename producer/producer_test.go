package producer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

type bundle struct {
	r   *redistest.Redis
	p   *producer.Producer
	reg *prometheus.Registry
	ctx context.Context
}

func setup(t *testing.T) *bundle {
	t.Helper()
	r := redistest.New(t)
	reg := prometheus.NewRegistry()
	p, err := producer.New(producer.Config{Client: r.Client, Queue: r.Queue, Registerer: reg, BatchSize: 7, Concurrency: 3})
	require.NoError(t, err)
	return &bundle{r: r, p: p, reg: reg, ctx: context.Background()}
}

func (b *bundle) campaign(t *testing.T, edit func(c *campaign.Campaign)) *campaign.Campaign {
	t.Helper()
	c := &campaign.Campaign{ID: "spring-sale-2026", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
	if edit != nil {
		edit(c)
	}
	created, err := b.p.Register(b.ctx, c)
	require.NoError(t, err)
	require.True(t, created)
	return c
}

func (b *bundle) publishSender(t *testing.T, id string, rate float64) {
	t.Helper()
	require.NoError(t, b.r.Client.HSet(b.ctx, b.r.Keys.Senders(), id, fmt.Sprintf(`{"rate":%v,"burst":1}`, rate)).Err())
}

func csvRows(n int) string {
	var sb strings.Builder
	sb.WriteString("to,body.1,meta.crm_id\n")
	for i := range n {
		fmt.Fprintf(&sb, "+44 7700 9%05d,name%d,%d\n", i, i, i)
	}
	return sb.String()
}

func TestEnqueue_GoodRowsInBadRowsReported(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	in := "to,body.1\n" +
		"441234567890,Ana\n" + // 2
		"12,Bob\n" + // 3 not international
		"441234567891,\n" + // 4 empty parameter
		"+44 1234 567890,Ana again\n" + // 5 same number as line 2
		"441234567892,Cid\n" // 6
	sum, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader(in)), producer.Options{})
	require.NoError(t, err)
	require.Equal(t, int64(2), sum.Accepted)
	require.Equal(t, int64(1), sum.Duplicates)
	require.Equal(t, int64(2), sum.Rejected)
	require.Equal(t, []producer.RowError{
		{Line: 3, Reason: `to: "12" is not an international phone number: 2 digits, want 8 to 15`},
		{Line: 4, Reason: "body.1: empty (a template parameter cannot be blank)"},
	}, sum.Errors)

	ins := asynq.NewInspectorFromRedisClient(b.r.Client)
	info, err := ins.GetTaskInfo(b.r.Queue, "spring-sale-2026:441234567890")
	require.NoError(t, err)
	require.Equal(t, task.TypeSend, info.Type)
	require.Equal(t, producer.DefaultMaxRetry+1, info.MaxRetry)
	s, err := task.DecodeSend(info.Payload)
	require.NoError(t, err)
	require.Equal(t, "441234567890", s.To)
	require.Equal(t, c.ID, s.Campaign)
	require.Len(t, s.Components, 1)
	_, err = ins.GetTaskInfo(b.r.Queue, "spring-sale-2026:441234567891")
	require.ErrorIs(t, err, asynq.ErrTaskNotFound, "a rejected row makes no job")

	st, err := b.p.Store().Campaigns.Status(b.ctx, c.ID)
	require.NoError(t, err)
	require.EqualValues(t, 2, st.Counts.Enqueued)
	require.InDelta(t, 2, testutil.ToFloat64(metric(t, b.reg, "accepted")), 0)

	// A re-run enqueues nothing new.
	sum, err = b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader(in)), producer.Options{})
	require.NoError(t, err)
	require.Equal(t, int64(0), sum.Accepted)
	require.Equal(t, int64(3), sum.Duplicates)
	st, _ = b.p.Store().Campaigns.Status(b.ctx, c.ID)
	require.EqualValues(t, 2, st.Counts.Enqueued)
}

func metric(t *testing.T, reg *prometheus.Registry, result string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == result {
				return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "x"}, func() float64 { return m.GetCounter().GetValue() })
			}
		}
	}
	t.Fatalf("no mmlite_enqueued_total{result=%q}", result)
	return nil
}

func TestEnqueue_ConcurrentUploadsOfTheSameListMakeOneJobEach(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	in := csvRows(300)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var accepted, dups int64
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader(in)), producer.Options{})
			require.NoError(t, err)
			mu.Lock()
			accepted += sum.Accepted
			dups += sum.Duplicates
			mu.Unlock()
		}()
	}
	wg.Wait()
	require.EqualValues(t, 300, accepted)
	require.EqualValues(t, 900, dups)
	st, _ := b.p.Store().Campaigns.Status(b.ctx, c.ID)
	require.EqualValues(t, 300, st.Counts.Enqueued)
}

func TestEnqueue_NoSecondJobAfterTheFirstIsDone(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	in := "to\n441234567890\n"
	_, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader(in)), producer.Options{})
	require.NoError(t, err)
	// The worker sends it: its ledger has an outcome and its job is gone.
	_, err = b.p.Store().Ledger.Claim(b.ctx, c.ID, "441234567890", store.ClaimOptions{StaleAfter: time.Minute})
	require.NoError(t, err)
	_, err = b.p.Store().Ledger.Settle(b.ctx, c.ID, "441234567890", store.Outcome{Status: task.StatusSent}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	require.NoError(t, asynq.NewInspectorFromRedisClient(b.r.Client).DeleteTask(b.r.Queue, "spring-sale-2026:441234567890"))

	sum, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader(in)), producer.Options{})
	require.NoError(t, err)
	require.Equal(t, int64(0), sum.Accepted)
	require.Equal(t, int64(1), sum.Duplicates)
}

func TestEnqueue_PacesAtTheSendersRate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.publishSender(t, "default", 10)
	c := b.campaign(t, nil)
	start := time.Now()
	sum, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader(csvRows(100))), producer.Options{})
	end := time.Now()
	require.NoError(t, err)
	require.EqualValues(t, 100, sum.Accepted)

	pending := b.r.Client.LLen(b.ctx, b.r.Keys.AsynqPending()).Val()
	require.InDelta(t, 11, pending, 2, "about a second's worth goes straight to pending")
	zs, err := b.r.Client.ZRangeWithScores(b.ctx, b.r.Keys.AsynqScheduled(), 0, -1).Result()
	require.NoError(t, err)
	require.Len(t, zs, 100-int(pending))
	perSecond := map[int64]int{}
	var last float64
	for _, z := range zs {
		perSecond[int64(z.Score)]++
		last = max(last, z.Score)
	}
	for sec, n := range perSecond {
		require.LessOrEqual(t, n, 11, "second %d", sec)
	}
	// 100 at 10/s: the last slot is 9.9 s after the clock started, at some
	// moment of the Enqueue call however long it took; asynq keeps whole
	// seconds. 20/s or 5/s end 5 s or 10 s away.
	require.GreaterOrEqual(t, last, float64(start.Unix()+9), "100 at 10/s end 9.9 s after the enqueue started")
	require.LessOrEqual(t, last, float64(end.Unix()+10), "100 at 10/s end 9.9 s after the enqueue started")

	// A second campaign of the same sender queues behind the first.
	c2 := b.campaign(t, func(c *campaign.Campaign) { c.ID = "second" })
	_, err = b.p.Enqueue(b.ctx, c2, producer.NewCSVSource(strings.NewReader(csvRows(10))), producer.Options{})
	require.NoError(t, err)
	score := b.r.Client.ZScore(b.ctx, b.r.Keys.AsynqScheduled(), "second:447700900000").Val()
	require.GreaterOrEqual(t, score, last-1)
}

func TestEnqueue_SendAtSchedulesOnItsOwnClock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	at := time.Now().Add(2 * time.Hour).Truncate(time.Second)
	c := b.campaign(t, func(c *campaign.Campaign) { c.SendAt = &at })
	_, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader(csvRows(3))), producer.Options{})
	require.NoError(t, err)
	score := b.r.Client.ZScore(b.ctx, b.r.Keys.AsynqScheduled(), "spring-sale-2026:447700900000").Val()
	require.EqualValues(t, at.Unix(), score)
	require.Zero(t, b.r.Client.Exists(b.ctx, b.r.Keys.Clock("default")).Val(), "today's clock is untouched")

	now := b.campaign(t, func(c *campaign.Campaign) { c.ID = "now" })
	_, err = b.p.Enqueue(b.ctx, now, producer.NewCSVSource(strings.NewReader(csvRows(3))), producer.Options{})
	require.NoError(t, err)
	require.EqualValues(t, 1, b.r.Client.Exists(b.ctx, b.r.Keys.AsynqTask("now:447700900000")).Val())
	require.Zero(t, b.r.Client.ZScore(b.ctx, b.r.Keys.AsynqScheduled(), "now:447700900000").Val(), "not behind tomorrow's campaign")
}

func TestEnqueue_ExpiryTravelsWithTheJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	c := b.campaign(t, func(c *campaign.Campaign) { c.ExpiresAt = &exp; c.Sender = "eu" })
	_, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader("to\n441234567890\n")), producer.Options{})
	require.NoError(t, err)
	info, err := asynq.NewInspectorFromRedisClient(b.r.Client).GetTaskInfo(b.r.Queue, "spring-sale-2026:441234567890")
	require.NoError(t, err)
	require.JSONEq(t, fmt.Sprintf(`{"c":"spring-sale-2026","s":"eu","to":"441234567890","e":%d}`, exp.Unix()), string(info.Payload))
}

func TestEnqueue_Refusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	b.publishSender(t, "default", 80)

	_, err := b.p.Register(b.ctx, &campaign.Campaign{ID: "x", Sender: "nobody", Template: c.Template})
	require.ErrorIs(t, err, producer.ErrUnknownSender)
	require.ErrorContains(t, err, `known: default)`)

	_, err = b.p.Register(b.ctx, &campaign.Campaign{ID: "bad id"})
	var ve *campaign.ValidationError
	require.ErrorAs(t, err, &ve)

	other := *c
	other.ProductPolicy = "STRICT"
	_, err = b.p.Register(b.ctx, &other)
	require.ErrorIs(t, err, campaign.ErrConflict)

	_, err = b.p.Enqueue(b.ctx, &campaign.Campaign{ID: "unregistered"}, producer.NewCSVSource(strings.NewReader("to\n441234567890\n")), producer.Options{})
	require.ErrorIs(t, err, campaign.ErrNotFound)

	require.NoError(t, b.r.Client.HSet(b.ctx, b.r.Keys.Campaign(c.ID), "state", "cancelled").Err())
	_, err = b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader("to\n441234567890\n")), producer.Options{})
	require.ErrorIs(t, err, producer.ErrCancelled)
}

// A sealed campaign takes no new recipient; a row it has is a duplicate,
// and an enqueue of only new rows is ErrSealed, with its summary.
func TestEnqueue_SealedCampaign(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	_, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader("to\n441234567890\n")), producer.Options{})
	require.NoError(t, err)
	st, err := b.p.Seal(b.ctx, c.ID)
	require.NoError(t, err)
	require.True(t, st.Sealed)
	require.Equal(t, campaign.StateRunning, st.State, "its recipient is not final yet")

	sum, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader("to\n441234567891\n441234567892\n")), producer.Options{})
	require.ErrorIs(t, err, producer.ErrSealed)
	require.Equal(t, producer.Summary{CampaignID: c.ID, Rejected: 2, Errors: []producer.RowError{
		{Line: 2, Reason: "campaign is sealed"}, {Line: 3, Reason: "campaign is sealed"}}}, *sum)

	sum, err = b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader("to\n441234567890\n441234567893\n")), producer.Options{})
	require.NoError(t, err, "a duplicate among them: the usual answer")
	require.EqualValues(t, 1, sum.Duplicates)
	require.EqualValues(t, 1, sum.Rejected)
	st, err = b.p.Store().Campaigns.Status(b.ctx, c.ID)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Counts.Enqueued)

	_, err = b.p.Seal(b.ctx, "nope")
	require.ErrorIs(t, err, campaign.ErrNotFound)
}

func TestEnqueue_DryRunWritesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := &campaign.Campaign{ID: "dry", Template: mmapi.Template{Name: "t", Language: mmapi.Language{Code: "en"}}}
	var progress []producer.Summary
	sum, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader("to\n441234567890\n441234567890\n1\n")),
		producer.Options{DryRun: true, Progress: func(s producer.Summary) { progress = append(progress, s) }})
	require.NoError(t, err)
	require.Equal(t, producer.Summary{CampaignID: "dry", Accepted: 1, Duplicates: 1, Rejected: 1, DryRun: true,
		Errors: []producer.RowError{{Line: 4, Reason: `to: "1" is not an international phone number: 1 digits, want 8 to 15`}}}, *sum)
	keys, err := b.r.Client.Keys(b.ctx, "*{"+b.r.Queue+"}*").Result()
	require.NoError(t, err)
	require.Empty(t, keys)
}

func TestEnqueue_FatalErrorKeepsWhatWasEnqueued(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	in := csvRows(20) + strings.Repeat("4", producer.MaxLine+1) + "\n"
	sum, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader(in)), producer.Options{})
	require.ErrorContains(t, err, "line 22 is longer than")
	require.LessOrEqual(t, sum.Accepted, int64(20))
	st, _ := b.p.Store().Campaigns.Status(b.ctx, c.ID)
	require.Equal(t, sum.Accepted, st.Counts.Enqueued, "the summary says exactly what was enqueued")
}

// asynq itself must be able to run what the producer wrote.
func TestEnqueue_AsynqServerRunsTheJobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	_, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader(csvRows(25))), producer.Options{})
	require.NoError(t, err)
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := asynq.NewServerFromRedisClient(b.r.Client, asynq.Config{Queues: map[string]int{b.r.Queue: 1}, Concurrency: 4,
		DelayedTaskCheckInterval: 100 * time.Millisecond, LogLevel: asynq.FatalLevel})
	require.NoError(t, srv.Start(asynq.HandlerFunc(func(ctx context.Context, tk *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		max, _ := asynq.GetMaxRetry(ctx)
		dl, _ := ctx.Deadline()
		s, err := task.DecodeSend(tk.Payload())
		if err != nil || tk.Type() != task.TypeSend || max != producer.DefaultMaxRetry+1 || time.Until(dl) < 9*time.Minute ||
			id != task.SendID(s.Campaign, s.To) {
			return fmt.Errorf("unexpected task %q %v %d %v: %w", id, err, max, dl, asynq.SkipRetry)
		}
		mu.Lock()
		seen[s.To] = true
		mu.Unlock()
		return nil
	})))
	defer srv.Shutdown()
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == 25 }, 30*time.Second, 20*time.Millisecond)
	archived, _ := asynq.NewInspectorFromRedisClient(b.r.Client).ListArchivedTasks(b.r.Queue)
	require.Empty(t, archived)
}

// The producer's messages are byte for byte what asynq's client writes.
func TestEnqueue_SameBytesAsAsynq(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	_, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader("to\n441234567890\n")), producer.Options{})
	require.NoError(t, err)
	ours, err := b.r.Client.HGet(b.ctx, b.r.Keys.AsynqTask("spring-sale-2026:441234567890"), "msg").Bytes()
	require.NoError(t, err)

	payload, _ := json.Marshal(task.Send{Campaign: "spring-sale-2026", To: "441234567891"})
	cl := asynq.NewClientFromRedisClient(b.r.Client)
	_, err = cl.Enqueue(asynq.NewTask(task.TypeSend, payload), asynq.Queue(b.r.Queue), asynq.TaskID("spring-sale-2026:441234567891"),
		asynq.MaxRetry(producer.DefaultMaxRetry+1), asynq.Timeout(10*time.Minute))
	require.NoError(t, err)
	theirs, err := b.r.Client.HGet(b.ctx, b.r.Keys.AsynqTask("spring-sale-2026:441234567891"), "msg").Bytes()
	require.NoError(t, err)
	require.Equal(t, strings.Replace(string(theirs), "441234567891", "441234567890", 2), string(ours))
	_ = redis.Nil
}

// A campaign registered paused (its WABA has not signed the MM Lite terms,
// or Meta paused its template) is an automatic pause: it is announced with
// a `paused` event, as every other automatic pause is (found in review: it
// never was, and a consumer of the events saw a running campaign that sent
// nothing).
func TestRegister_PausedIsAnnounced(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.r.Client.HSet(b.ctx, b.r.Keys.Senders(), "default",
		`{"rate":10,"burst":1,"waba_id":"W","require_onboarding":true}`).Err())
	c := b.campaign(t, nil)
	st, err := b.p.Status(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, st.State)
	require.Contains(t, b.r.Client.SMembers(b.ctx, b.r.Keys.Announce()).Val(), c.ID, "paused for onboarding")

	require.NoError(t, b.r.Client.HSet(b.ctx, b.r.Keys.Senders(), "default", `{"rate":10,"burst":1,"waba_id":"W"}`).Err())
	h := guard.TemplateHolds(b.r.Keys, "W", "spring_sale", "pt_BR")[0]
	require.NoError(t, b.r.Client.Set(b.ctx, h.Key, guard.ReasonTemplatePaused, time.Hour).Err())
	c = b.campaign(t, func(c *campaign.Campaign) { c.ID = "held" })
	st, err = b.p.Status(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, st.State)
	require.Contains(t, b.r.Client.SMembers(b.ctx, b.r.Keys.Announce()).Val(), c.ID, "held by its paused template")
}
