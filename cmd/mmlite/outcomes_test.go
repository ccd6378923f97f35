package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// settleAll gives every recipient of a campaign an outcome, as workers
// would: the first fails, the others are sent.
func settleAll(t *testing.T, url, id string, rows map[string]string) {
	t.Helper()
	opt, err := redisconn.Parse(url, 4)
	require.NoError(t, err)
	rdb := redisconn.Client(opt)
	defer rdb.Close()
	st := store.New(rdb, keyspace.New(task.SendQueue), store.Options{})
	for to, name := range rows {
		c, err := mmapi.NewComponent(map[string]any{"type": "body", "parameters": []map[string]string{{"type": "text", "text": name}}})
		require.NoError(t, err)
		o := store.Outcome{Status: task.StatusSent, WAMID: "wamid." + to, Components: []mmapi.Component{c}, Metadata: map[string]string{"n": name}}
		if name == "Ana" {
			o = store.Outcome{Status: task.StatusFailed, Error: &task.Error{Code: 131026}, Components: o.Components, Metadata: o.Metadata}
		}
		_, err = st.Ledger.Settle(context.Background(), id, to, o, store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}
}

func TestCampaignListResultsFollowUp(t *testing.T) {
	t.Parallel()
	_, url := enqueueSpring(t, "to,body.1,meta.n\n441234567890,Ana,Ana\n441234567891,Bob,Bob\n")

	out, code := run(t, "--redis-url", url, "campaign", "list")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "ID")
	require.Regexp(t, `spring\s+running\s+default\s+spring_sale\s+2\s+0\s+0`, out)
	out, code = run(t, "--redis-url", url, "campaign", "list", "--state", "sending")
	require.Equal(t, 1, code)
	require.Contains(t, out, `--state "sending" is not one of scheduled, running, paused, cancelled, completed`)

	out, code = run(t, "--redis-url", url, "campaign", "follow-up", "spring", "--as", "spring-2", "--status", "failed")
	require.Equal(t, 1, code)
	require.Contains(t, out, "spring is still sending (running, 0 of 2 recipients final)")

	settleAll(t, url, "spring", map[string]string{"441234567890": "Ana", "441234567891": "Bob"})
	out, code = run(t, "--redis-url", url, "campaign", "results", "spring", "--status", "failed", "--format", "csv")
	require.Equal(t, 0, code, out)
	require.Equal(t, "to,body.1,meta.n,status,error_code,wamid\n441234567890,Ana,Ana,failed,131026,\n", out)
	out, code = run(t, "--redis-url", url, "campaign", "results", "spring")
	require.Equal(t, 0, code, out)
	require.Len(t, strings.Split(strings.TrimSpace(out), "\n"), 2)

	out, code = run(t, "--redis-url", url, "campaign", "follow-up", "spring", "--as", "spring-2", "--status", "failed",
		"--template", "spring_reminder:pt_BR")
	require.Equal(t, 0, code, out)
	var sum producer.Summary
	require.NoError(t, json.Unmarshal([]byte(out), &sum))
	require.EqualValues(t, 1, sum.Accepted)
	out, code = run(t, "--redis-url", url, "campaign", "status", "spring-2")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, `"template_name": "spring_reminder"`)
	require.Contains(t, out, `"sealed": true`)

	out, code = run(t, "--redis-url", url, "campaign", "follow-up", "spring", "--as", "spring-3", "--status", "expired")
	require.Equal(t, 1, code)
	require.Contains(t, out, "the follow-up matches no recipient of spring: nothing was registered")
	out, code = run(t, "--redis-url", url, "campaign", "follow-up", "spring", "--as", "spring-2", "--status", "failed")
	require.Equal(t, 1, code)
	require.Contains(t, out, "spring-2 exists")

	out, code = run(t, "--redis-url", url, "campaign", "list", "--output", "json", "--limit", "1")
	require.Equal(t, 0, code, out)
	var page store.Page
	require.NoError(t, json.Unmarshal([]byte(out), &page))
	require.Equal(t, "spring-2", page.Campaigns[0].ID)
	require.NotEmpty(t, page.NextCursor)

	out, code = run(t, "--redis-url", url, "campaign", "recipient", "spring", "+44 1234 567890")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, `"state": "final"`)
}

// campaign test --components was read with encoding/json: "Type" and a
// repeated key got through. It is refused before anything is sent.
func TestCampaignTest_ComponentsAreStrict(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	for comps, want := range map[string]string{
		`[{"Type": "body"}]`:                   `--components: components[0]: unknown field "Type"`,
		`[{"type": "body", "type": "header"}]`: `--components: components[0]: "type" appears twice`,
	} {
		out, code := run(t, "--redis-url", url, "campaign", "test", "--to", "447700900000", "--components", comps, "--wait", "1s", "spring")
		require.Equal(t, 1, code, out)
		require.Contains(t, out, want)
	}
}

// campaign test --wait 0 (or negative) enqueued the test send, withdrew it
// at once and blamed the workers ("no worker answered the test send within
// 0s"). It is refused before anything is enqueued (found in review).
func TestCampaignTest_WaitMustBePositive(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url, camp := "redis://"+mr.Addr()+"/0", springFile(t)
	out, code := run(t, "--redis-url", url, "enqueue", "--campaign", camp, "--recipients", write(t, "r.csv", "to\n441234567890\n"), "--open")
	require.Equal(t, 0, code, out)
	for _, wait := range []string{"0s", "-1s"} {
		out, code := run(t, "--redis-url", url, "campaign", "test", "--to", "447700900000", "--wait", wait, "spring")
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "--wait "+wait+": it must be above 0", out)
		require.NotContains(t, out, "no worker answered")
	}
}

// campaign follow-up --send-at without a time zone was refused with Go's
// parse error (`parsing time "2026-12-24T09:00:00" as
// "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00"`), which does not
// say that the zone is missing; the campaign's JSON and the HTTP follow-up
// say it in words.
func TestCampaignFollowUp_TimeWithoutZoneSaysSo(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	for _, flag := range []string{"--send-at", "--expires-at"} {
		out, code := run(t, "--redis-url", url, "campaign", "follow-up", "spring", "--as", "spring-2", "--status", "failed",
			flag, "2026-12-24T09:00:00")
		require.Equal(t, 1, code, out)
		require.Contains(t, out, flag+": want an RFC 3339 time with a time zone: YYYY-MM-DDThh:mm:ssZ (UTC) or YYYY-MM-DDThh:mm:ss+02:00, got \"2026-12-24T09:00:00\"")
		require.NotContains(t, out, "Z07:00")
	}
	require.Empty(t, mr.Keys(), "nothing registered")
}

// campaign list --cursor with a cursor no page gave said only "campaign:
// cursor is not one a previous page gave", which does not say what a
// cursor is or what to pass instead. It names the flag and the value, and
// says where a cursor comes from and that the first page takes none.
func TestCampaignList_BadCursorSaysWhatToPass(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	for _, cur := range []string{"garbled", "MTc5", "bm90IGEgY3Vyc29y"} {
		out, code := run(t, "--redis-url", url, "campaign", "list", "--cursor", cur)
		require.Equal(t, 1, code, out)
		require.Equal(t, `--cursor "`+cur+`" is not one a previous page gave: pass the next_cursor a page printed `+
			`(its "more: --cursor ..." line, or next_cursor with --output json), or no --cursor for the first page`, strings.TrimSpace(out))
	}
	out, code := run(t, "--redis-url", url, "campaign", "list")
	require.Equal(t, 0, code, out)
}
