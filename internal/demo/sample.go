package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/progress"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
)

const (
	campaignID = "spring-sale-2026"
	apiKey     = "demo-d360-key"
	hookSecret = "demo-webhook-secret"
)

// undeliverable are the recipients the fake API refuses, to show permanent
// failures.
func undeliverable() map[string]int {
	return map[string]int{"5511900000007": 131026, "5511900000042": 131050}
}

// fakeConfig makes the fake API realistic: latency, some transient
// errors, two recipients that cannot be reached, and status webhooks
// (sent, delivered, read) posted to the api like 360dialog does.
func fakeConfig(webhookURL string) fakeapi.Config {
	read := 0.6
	return fakeapi.Config{Keys: []string{apiKey}, Templates: []string{"spring_sale"},
		Latency: fakeapi.Duration(60 * time.Millisecond), LatencyJitter: fakeapi.Duration(40 * time.Millisecond),
		Errors:         []fakeapi.ErrorRule{{Share: 0.03, Code: 131000}, {Share: 0.01, HTTPStatus: 502}},
		FailRecipients: undeliverable(), Seed: 2026,
		WebhookURL: webhookURL, WebhookSecret: hookSecret, WebhookDelay: fakeapi.Duration(300 * time.Millisecond), ReadShare: &read}
}

// awaitWebhooks keeps showing progress while the last delivery and read
// webhooks arrive (a few seconds at most).
func (d *stack) awaitWebhooks(ctx context.Context, st *campaign.Status) *campaign.Status {
	tty := d.cfg.TTY
	deadline := time.Now().Add(5 * time.Second)
	last, stable := st.Counts.Delivered+st.Counts.Read, 0
	for time.Now().Before(deadline) && stable < 4 {
		select {
		case <-ctx.Done():
			return st
		case <-time.After(250 * time.Millisecond):
		}
		next, err := d.producer.Store().Campaigns.Status(ctx, campaignID)
		if err != nil {
			return st
		}
		st = next
		if n := st.Counts.Delivered + st.Counts.Read; n == last && st.Counts.Delivered >= st.Counts.Sent {
			stable++
		} else {
			last, stable = n, 0
		}
		if tty {
			fmt.Fprintf(d.cfg.Progress, "\r\033[K%s", progress.Line(st, 0))
		}
	}
	if tty {
		fmt.Fprintln(d.cfg.Progress)
	}
	return st
}

func newToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

const sampleCampaign = `{"campaign": {
  "id": "` + campaignID + `",
  "template": {"name": "spring_sale", "language": {"code": "pt_BR"}, "components": [
    {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://example.com/spring.jpg"}}]}]},
  "message_activity_sharing": true,
  "message_send_ttl_seconds": 86400,
  "product_policy": "STRICT"}}`

// sampleCSV is a personalised recipient list with two bad rows in it.
func sampleCSV(n int) string {
	firstNames := []string{"Ana", "Bruno", "Carla", "Diego", "Eva", "Felipe", "Gabi", "Hugo", "Iris", "João"}
	var b strings.Builder
	b.WriteString("to,body.first_name,body.discount,button.0,meta.crm_id\n")
	for i := range n {
		name := firstNames[i%len(firstNames)]
		fmt.Fprintf(&b, "+55 11 9%08d,%s,%d%%,%s-%d,crm-%d\n", i, name, 10+5*(i%4), strings.ToLower(name), i, i)
		if i == 3 {
			b.WriteString("12345,Nobody,10%,x,crm-x\n")
		}
		if i == 5 {
			b.WriteString("+55 11 90000-0009,,10%,y,crm-y\n")
		}
	}
	return b.String()
}

// submit registers the campaign, uploads its recipients through the API
// and seals it.
func (d *stack) submit(ctx context.Context, n int) (*producer.Summary, error) {
	if _, err := d.post(ctx, "/v1/campaigns", "application/json", sampleCampaign); err != nil {
		return nil, err
	}
	body, err := d.post(ctx, "/v1/campaigns/"+campaignID+"/recipients", "text/csv", sampleCSV(n))
	if err != nil {
		return nil, err
	}
	var sum producer.Summary
	if err := json.Unmarshal(body, &sum); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	// That was the whole list: the campaign completes once it is sent.
	if _, err := d.post(ctx, "/v1/campaigns/"+campaignID+"/seal", "application/json", ""); err != nil {
		return nil, err
	}
	return &sum, nil
}

func (d *stack) post(ctx context.Context, path, contentType, body string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.apiURL+path, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("demo: %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("demo: %s: %s: %s", path, resp.Status, b)
	}
	return b, nil
}

// report prints the outcomes, read back from the results queue.
func (d *stack) report(w io.Writer, st *campaign.Status) {
	var results []task.Result
	for page := 1; ; page++ {
		infos, err := d.inspector.ListPendingTasks(task.DefaultResultsQueue, asynq.PageSize(1000), asynq.Page(page))
		if err != nil || len(infos) == 0 {
			break
		}
		for _, ti := range infos {
			var r task.Result
			if ti.Type == task.TypeResult && json.Unmarshal(ti.Payload, &r) == nil {
				results = append(results, r)
			}
		}
	}
	fmt.Fprintf(w, "\ncampaign %s is %s: %d recipients, %d results in the %q queue; by webhook: %d delivered, %d read\n\n",
		st.ID, st.State, st.Counts.Enqueued, len(results), task.DefaultResultsQueue, st.Counts.Delivered, st.Counts.Read)
	progress.Table(w, progress.Tally(results))
	fmt.Fprintf(w, "\n%s\n", fakeLine(d.fake.Stats()))
}

// fakeLine sums up what the fake API saw. Its 131000 answers are retried;
// its 502s carry no provider code (360dialog's page), so their outcome is
// unknown and they are not sent again (docs/errors.md, ambiguous).
func fakeLine(fs fakeapi.Stats) string {
	return fmt.Sprintf("the fake API saw %d requests: %d accepted, %d transient errors retried (131000), "+
		"%d answers 502 without the provider's code (outcome unknown: not sent again); recipients sent more than once: %d",
		fs.Requests, fs.Accepted, fs.ByCode["131000"], fs.ByCode["http_502"], fs.Duplicates)
}
