package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// The console in a real browser, against the api, a worker and the fake
// API: a wrong token is refused, the right one logs in, a campaign is
// watched, paused and resumed from its page until it completes, and its
// failed recipients are exported as CSV; then a sender is paused and
// resumed, and a number is added to its suppression list, found and
// removed. Screenshots go to the artifacts
// directory (MMLITE_ARTIFACTS); with MMLITE_UPDATE_SCREENSHOTS=1 the
// completed campaign's page is also saved as the README's
// docs/img/console-campaign.png.
func TestConsole_InABrowser(t *testing.T) {
	ctx := newBrowser(t, 5*time.Minute)
	dir := artifacts(t)
	failing := map[string]int{testkit.To(3): 131026, testkit.To(17): 131026, testkit.To(29): 131021}
	f := newFleet(t, fakeapi.Config{})
	read := 0.6
	require.NoError(t, f.Fake.SetConfig(fakeapi.Config{Keys: []string{apiKey}, FailRecipients: failing, ReadShare: &read, Seed: 7,
		WebhookURL: f.api.URL + "/webhooks/whatsapp", WebhookSecret: hookSecret, WebhookDelay: fakeapi.Duration(50 * time.Millisecond)}))
	f.Fake.Start(f.Ctx)
	t.Cleanup(f.Fake.Close)
	cfg := f.workerConfig(4)
	cfg.Senders[0].Burst = 1
	f.startWorker(t, cfg)
	const id, n = "spring-sale", 60
	submitWithMeta(t, f, id, n)
	// Chrome keeps the Secure cookie of a loopback address's plain HTTP.
	base := f.api.URL

	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("%s: %v\nstatus: %+v\npage: %s", what, err, f.Status(t, id), html)
		}
	}
	get := func(a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		require.NoError(t, err)
		return v
	}
	do("a page without a session goes to the login form",
		chromedp.Navigate(base+"/ui/campaigns/"+id), chromedp.WaitVisible(chromedp.ID("token")))
	require.Contains(t, get(chromedp.Location()), "/ui/login?next=")

	do("a wrong token is refused", chromedp.SendKeys(chromedp.ID("token"), "not-the-token"), chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.ID("login-error")))
	require.Contains(t, get(chromedp.Text(chromedp.ID("login-error"))), "Wrong token")
	require.True(t, strings.HasSuffix(get(chromedp.Location()), "/ui/login"))
	screenshot(t, ctx, dir, "1-login-refused")

	do("the right token logs in and goes where it was asked", chromedp.SendKeys(chromedp.ID("token"), apiToken),
		chromedp.Submit(chromedp.ID("token")), chromedp.WaitVisible(chromedp.ID("progress")))
	require.Equal(t, base+"/ui/campaigns/"+id, get(chromedp.Location()))

	require.Eventually(t, func() bool { return f.Status(t, id).Counts.Sent >= 2 }, time.Minute, 20*time.Millisecond)
	do("pause", chromedp.WaitVisible(chromedp.ID("pause")), chromedp.Click(chromedp.ID("pause")),
		chromedp.WaitVisible(chromedp.Search(`//p[@class="flash" and contains(., "paused")]`)), chromedp.WaitVisible(chromedp.ID("resume")))
	require.Equal(t, campaign.StatePaused, f.Status(t, id).State)
	f.waitNoneInFlight(t, id)
	screenshot(t, ctx, dir, "2-paused")
	before := get(chromedp.Text(chromedp.ID("progress")))

	do("resume", chromedp.Click(chromedp.ID("resume")),
		chromedp.WaitVisible(chromedp.Search(`//p[@class="flash" and contains(., "resumed")]`)))
	// The page follows the campaign by itself (its live part, then a
	// reload once it is over, which shows the follow-up).
	do("watch it complete", chromedp.WaitVisible(chromedp.ID("follow-up")))
	require.Equal(t, "completed", get(chromedp.Text(chromedp.ID("state"))))
	after := get(chromedp.Text(chromedp.ID("progress")))
	require.NotEqual(t, before, after, "the progress moved")
	require.Contains(t, after, fmt.Sprintf("%d/%d final (100 %%)", n, n))
	done := f.waitState(t, id, campaign.StateCompleted, time.Minute)
	require.EqualValues(t, n-len(failing), done.Counts.Sent)
	require.Eventually(t, func() bool { return f.Status(t, id).Counts.Delivered >= done.Counts.Sent }, time.Minute, 50*time.Millisecond)
	do("the funnel with its deliveries", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("codes")))
	codes := get(chromedp.Text(chromedp.ID("codes")))
	require.Contains(t, codes, "131026")
	require.Contains(t, codes, "never retried for this recipient")
	shot := screenshot(t, ctx, dir, "3-completed")
	if os.Getenv("MMLITE_UPDATE_SCREENSHOTS") == "1" {
		b, err := os.ReadFile(shot)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join("..", "docs", "img", "console-campaign.png"), b, 0o644))
	}

	do("the list, filtered by state", chromedp.Navigate(base+"/ui/?state=completed"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/ui/campaigns/`+id+`"]`)))
	screenshot(t, ctx, dir, "4-list")
	do("back to the campaign", chromedp.Click(chromedp.CSS(`a[href="/ui/campaigns/`+id+`"]`)), chromedp.WaitVisible(chromedp.ID("export")))

	csv := download(t, ctx, dir, "#export")
	for _, to := range testkit.Recipients(n) {
		if code, ok := failing[to]; ok {
			require.Contains(t, csv, to+",", "the failed %s is exported", to)
			require.Contains(t, csv, fmt.Sprintf(",failed,%d,", code))
		} else {
			require.NotContains(t, csv, to+",", "the sent %s is not", to)
		}
	}
	require.True(t, strings.HasPrefix(csv, "to,meta.segment,status,error_code,wamid\n"), csv)

	// Senders: pause the sender (after its confirmation page), then resume it.
	do("open Senders", chromedp.Click(chromedp.CSS(`nav a[href="/ui/senders"]`)), chromedp.WaitVisible(chromedp.ID("pause-default")))
	do("pause the sender", chromedp.Click(chromedp.ID("pause-default")),
		chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()="Pause the sender"]`)),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Pause the sender"]`)), chromedp.WaitVisible(chromedp.ID("resume-default")))
	require.Contains(t, get(chromedp.Text(chromedp.ID("sender-default"))), "paused by the operator")
	screenshot(t, ctx, dir, "5-sender-paused")
	do("resume the sender", chromedp.Click(chromedp.ID("resume-default")),
		chromedp.WaitVisible(chromedp.Search(`//p[@class="flash" and contains(., "resumed")]`)), chromedp.WaitVisible(chromedp.ID("pause-default")))
	require.Contains(t, get(chromedp.Text(chromedp.ID("sender-default"))), "sending")

	// Suppressions: add a number, find it, remove it (after its confirmation).
	const to = "447700900123"
	do("open Suppressions", chromedp.Click(chromedp.CSS(`nav a[href="/ui/suppressions"]`)), chromedp.WaitVisible(chromedp.ID("add-to")))
	do("add a number", chromedp.SendKeys(chromedp.ID("add-to"), "+44 7700 900123"),
		chromedp.SendKeys(chromedp.ID("add-reason"), "asked by phone"), chromedp.Click(chromedp.ID("add")),
		chromedp.WaitVisible(chromedp.Search(`//p[@class="flash" and contains(., "Added")]`)))
	added := get(chromedp.Text(chromedp.CSS(`p.flash`)))
	require.Contains(t, added, phone.Mask(to), "the number is masked")
	require.NotContains(t, added, to)
	require.NotContains(t, get(chromedp.Location()), to[4:], "the address names no number")
	do("find it", chromedp.Navigate(base+"/ui/suppressions"), chromedp.WaitVisible(chromedp.ID("search-to")),
		chromedp.SendKeys(chromedp.ID("search-to"), to), chromedp.Click(chromedp.ID("search")), chromedp.WaitVisible(chromedp.ID("search-result")))
	require.Contains(t, get(chromedp.Text(chromedp.ID("search-result"))), "asked by phone")
	screenshot(t, ctx, dir, "6-suppression-found")
	do("remove it", chromedp.Click(chromedp.CSS(`#search-result button`)),
		chromedp.WaitVisible(chromedp.Search(`//button[normalize-space()="Remove it"]`)),
		chromedp.Click(chromedp.Search(`//button[normalize-space()="Remove it"]`)),
		chromedp.WaitVisible(chromedp.Search(`//p[@class="flash" and contains(., "Taken off")]`)))
	do("it is gone", chromedp.SendKeys(chromedp.ID("search-to"), to), chromedp.Click(chromedp.ID("search")),
		chromedp.WaitVisible(chromedp.Search(`//div[@id="search-result" and contains(., "Not on the suppression list")]`)))
}

// submitWithMeta registers a campaign of sender "default" with n
// recipients, each with a meta.segment, and seals it.
func submitWithMeta(t *testing.T, f *fleet, id string, n int) {
	t.Helper()
	c := &campaign.Campaign{ID: id, Sender: "default", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
	_, err := f.p.Register(f.Ctx, c)
	require.NoError(t, err)
	var b strings.Builder
	b.WriteString("to,meta.segment\n")
	for i, to := range testkit.Recipients(n) {
		fmt.Fprintf(&b, "%s,segment-%d\n", to, i%3)
	}
	_, err = f.p.Enqueue(f.Ctx, c, producer.NewCSVSource(strings.NewReader(b.String())), producer.Options{})
	require.NoError(t, err)
	_, err = f.p.Seal(f.Ctx, id)
	require.NoError(t, err)
}

// download clicks a button whose form downloads a file and returns the
// file, saved in dir.
func download(t *testing.T, ctx context.Context, dir, button string) string {
	t.Helper()
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	allow := true
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &allow})
			return err
		}),
		chromedp.Click(chromedp.CSS(button))))
	for ev, err := range progress {
		require.NoError(t, err, "the download of %s", button)
		if ev.State != browser.DownloadProgressStateCompleted {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, ev.GUID))
		require.NoError(t, err)
		return string(b)
	}
	t.Fatalf("the download of %s never completed", button)
	return ""
}
