package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func TestSuppressAndSenderCommands(t *testing.T) {
	t.Parallel()
	url, _ := published(t, &sender.Sender{ID: "eu", Rate: 5, WABAID: "W1", MessagingLimit: 2000})
	decode := func(out string) map[string]any {
		var m map[string]any
		require.NoError(t, json.NewDecoder(strings.NewReader(out)).Decode(&m), out) // the JSON, then any error
		return m
	}

	out, code := run(t, "suppress", "add", "--redis-url", url, "--sender", "eu", "--reason", "asked", "+44 1234 567890", "12")
	require.Equal(t, 3, code, "some refused, as enqueue: %s", out)
	m := decode(out)
	require.Equal(t, "W1", m["scope"], "a sender's list is its WABA's")
	require.EqualValues(t, 1, m["added"])
	require.EqualValues(t, 2, m["errors"].([]any)[0].(map[string]any)["line"], "the second number is refused, by its place")

	file := write(t, "s.csv", "to,reason\n441234567891,bounced\nnope,x\n")
	out, code = run(t, "suppress", "import", "--redis-url", url, "--scope", "W1", file)
	require.Equal(t, 3, code, out)
	m = decode(out)
	require.EqualValues(t, 1, m["added"])
	require.EqualValues(t, 3, m["errors"].([]any)[0].(map[string]any)["line"])
	out, code = run(t, "suppress", "import", "--redis-url", url, "--scope", "W1", write(t, "q.csv", "to\n441234567892\n\"441234567893\n441234567894\n"))
	require.Equal(t, 1, code, "a quote that never closes stops the import: %s", out)
	require.EqualValues(t, 1, decode(out)["added"], "the line before it is added, and said so")
	require.Contains(t, out, "line 3: a quote opened here")
	out, code = run(t, "suppress", "add", "--redis-url", url, "--scope", "W1")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "name the numbers")
	out, code = run(t, "suppress", "remove", "--redis-url", url, "--scope", "W1")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "name one number")

	out, code = run(t, "suppress", "list", "--redis-url", url, "--scope", "W1")
	require.Equal(t, 0, code, out)
	require.Len(t, decode(out)["entries"], 3)
	out, code = run(t, "suppress", "remove", "--redis-url", url, "--scope", "W1", "+44 1234 567890")
	require.Equal(t, 0, code, out)
	require.Equal(t, "441234567890", decode(out)["to"], "the number removed, as the list holds it (the API answers so too)")
	out, code = run(t, "suppress", "remove", "--redis-url", url, "--scope", "nosuch", "441234567890")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `scope "nosuch" has no suppression list`)
	out, code = run(t, "suppress", "add", "--redis-url", url, "--scope", "W2", "--sender", "eu", "441234567895")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "by its scope or by its sender, not both (scope W2, sender eu)", "the sender's list was taken without a word")

	out, code = run(t, "sender", "pause", "--redis-url", url, "eu")
	require.Equal(t, 0, code, out)
	out, code = run(t, "sender", "list", "--redis-url", url)
	require.Equal(t, 0, code, out)
	s := decode(out)["senders"].([]any)[0].(map[string]any)
	require.Equal(t, true, s["paused"], "the view of GET /v1/senders")
	require.EqualValues(t, 2000, s["messaging_limit_use"].(map[string]any)["limit"])
	out, code = run(t, "sender", "resume", "--redis-url", url, "eu")
	require.Equal(t, 0, code, out)
	out, code = run(t, "sender", "pause", "--redis-url", url, "nosuch")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "not published")
}

// suppress add and import took any scope, where POST /v1/suppressions
// refuses one no published sender has: a mistyped WABA id put the opt-out
// on a list no sender reads (found in review). list and remove still take
// a scope that has a list, as the WABA of a sender since moved.
func TestSuppress_UnpublishedScopeRefused(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	publish := func(waba string) {
		require.NoError(t, registry.New(rdb, keyspace.New(task.SendQueue)).Publish(context.Background(),
			[]*sender.Sender{{ID: "eu", Rate: 5, WABAID: waba}}))
	}
	publish("W-OLD")
	out, code := run(t, "suppress", "add", "--redis-url", url, "--scope", "W-OLD", "441234567891")
	require.Equal(t, 0, code, out)
	publish("102290129340398")

	const refused = "scope 10229012934039 is no published sender's WABA (or sender id)"
	out, code = run(t, "suppress", "add", "--redis-url", url, "--scope", "10229012934039", "441234567890")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, refused)
	out, code = run(t, "suppress", "import", "--redis-url", url, "--scope", "10229012934039", write(t, "s.csv", "to\n441234567890\n"))
	require.Equal(t, 1, code, out)
	require.Contains(t, out, refused)
	out, code = run(t, "suppress", "list", "--redis-url", url)
	require.Equal(t, 0, code, out)
	require.NotContains(t, out, "10229012934039\"", "nothing was added to it")

	out, code = run(t, "suppress", "add", "--redis-url", url, "--scope", "102290129340398", "441234567890")
	require.Equal(t, 0, code, out)
	out, code = run(t, "suppress", "list", "--redis-url", url, "--scope", "W-OLD")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "441234567891")
	out, code = run(t, "suppress", "remove", "--redis-url", url, "--scope", "W-OLD", "441234567891")
	require.Equal(t, 0, code, out)
}

// suppress import with no file said "open : no such file or directory",
// and with two files imported the first and silently dropped the other,
// exit status 0: it takes exactly one file, or says how it is used (found
// in review).
func TestSuppressImport_OneFile(t *testing.T) {
	t.Parallel()
	url, _ := published(t, &sender.Sender{ID: "eu", Rate: 5, WABAID: "W1"})
	a, b := write(t, "a.csv", "to\n441234567891\n"), write(t, "b.csv", "to\n441234567892\n")
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{nil, "name one file: mmlite suppress import --scope WABA_ID FILE"},
		{[]string{a, b}, `unexpected argument "` + b + `": it takes FILE`},
	} {
		out, code := run(t, append([]string{"suppress", "import", "--redis-url", url, "--scope", "W1"}, tc.files...)...)
		require.Equal(t, 1, code, out)
		require.Contains(t, out, tc.want, out)
	}
	out, code := run(t, "suppress", "list", "--redis-url", url, "--scope", "W1")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `"W1" has no suppression list`, "nothing was imported")
}

// published serves an embedded Redis with senders published, as workers
// would, and returns its URL and a client of it.
func published(t *testing.T, senders ...*sender.Sender) (string, *redis.Client) {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	require.NoError(t, registry.New(rdb, keyspace.New(task.SendQueue)).Publish(context.Background(), senders))
	return "redis://" + mr.Addr() + "/0", rdb
}

// suppress list --cursor with a cursor no page gave said only "guard: bad
// cursor", as campaign list did (a6b98d2): it names the flag and says what
// to pass.
func TestSuppressList_BadCursorSaysWhatToPass(t *testing.T) {
	t.Parallel()
	url, _ := published(t, &sender.Sender{ID: "eu", Rate: 5, WABAID: "101", MessagingLimit: 2000})
	out, code := run(t, "suppress", "add", "--redis-url", url, "--sender", "eu", "441234567890", "441234567891")
	require.Equal(t, 0, code, out)
	out, code = run(t, "suppress", "list", "--redis-url", url, "--sender", "eu", "--limit", "1")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "next_cursor")
	for _, cur := range []string{"garbled", "MTc5"} {
		out, code := run(t, "suppress", "list", "--redis-url", url, "--sender", "eu", "--cursor", cur)
		require.Equal(t, 1, code, out)
		require.Equal(t, `--cursor "`+cur+`" is not one a previous page gave: pass the next_cursor of the page before, or no --cursor for the first page`,
			strings.TrimSpace(out))
	}
}

// A sender paused and numbers suppressed from the cli say so: paused_by
// and each entry's source are cli (found in review: they said api, so an
// operator auditing a pause or an entry could not tell who made it).
func TestSenderPauseAndSuppress_SayTheCLI(t *testing.T) {
	t.Parallel()
	url, _ := published(t, &sender.Sender{ID: "eu", Rate: 5, WABAID: "101"})
	out, code := run(t, "sender", "pause", "--redis-url", url, "eu")
	require.Equal(t, 0, code, out)
	out, code = run(t, "sender", "list", "--redis-url", url)
	require.Equal(t, 0, code, out)
	var senders struct {
		Senders []struct {
			PausedBy string `json:"paused_by"`
		} `json:"senders"`
	}
	require.NoError(t, json.NewDecoder(strings.NewReader(out)).Decode(&senders), out)
	require.Len(t, senders.Senders, 1)
	require.Equal(t, "cli", senders.Senders[0].PausedBy)

	out, code = run(t, "suppress", "add", "--redis-url", url, "--scope", "101", "441234567890")
	require.Equal(t, 0, code, out)
	out, code = run(t, "suppress", "import", "--redis-url", url, "--scope", "101", write(t, "s.csv", "to\n441234567891\n"))
	require.Equal(t, 0, code, out)
	out, code = run(t, "suppress", "list", "--redis-url", url, "--scope", "101")
	require.Equal(t, 0, code, out)
	var list struct {
		Entries []struct {
			To     string `json:"to"`
			Source string `json:"source"`
		} `json:"entries"`
	}
	require.NoError(t, json.NewDecoder(strings.NewReader(out)).Decode(&list), out)
	require.Len(t, list.Entries, 2, out)
	for _, e := range list.Entries {
		require.Equal(t, "cli", e.Source, e.To)
	}
}

// The CLI's last line carried the word of the Go package that made the
// error ("guard: not a phone number: \"nope\" is not a phone number: ...",
// "producer: unknown sender: sender ...", "campaign: not allowed in this
// state: ..."). Each reads as a sentence that says what and which.
func TestErrors_ReadAsSentences(t *testing.T) {
	t.Parallel()
	url, _ := published(t, &sender.Sender{ID: "eu", Rate: 5, WABAID: "W1"})
	camp := write(t, "c.json", `{"id": "spring", "sender": "eu", "template": {"name": "spring_sale", "language": {"code": "pt_BR"}}}`)
	out, code := run(t, "--redis-url", url, "enqueue", "--campaign", camp, "--recipients", write(t, "r.csv", "to\n441234567890\n"))
	require.Equal(t, 0, code, out)
	last := func(out string) string {
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[len(lines)-1]
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"enqueue", "--campaign", camp, "--recipients", write(t, "r2.csv", "to\n441234567891\n")}, "campaign spring is sealed: every row was a new recipient"},
		{[]string{"enqueue", "--campaign", write(t, "c2.json", `{"id": "spring", "sender": "eu", "template": {"name": "other", "language": {"code": "pt_BR"}}}`),
			"--recipients", write(t, "r3.csv", "to\n441234567891\n")}, "a different campaign with the id spring exists: choose another id"},
		{[]string{"enqueue", "--campaign", write(t, "c3.json", `{"id": "s3", "sender": "nope", "template": {"name": "t", "language": {"code": "pt_BR"}}}`),
			"--recipients", write(t, "r4.csv", "to\n441234567891\n")}, `sender "nope" is not configured in any worker (known: eu)`},
		{[]string{"campaign", "recipient", "spring", "441234567899"}, "campaign spring has no recipient 441234567899"},
		{[]string{"campaign", "test", "spring", "--to", "x"}, `to: "x" is not a phone number: unexpected 'x'`},
		{[]string{"suppress", "remove", "--scope", "W1", "nope"}, `"nope" is not a phone number: unexpected 'n'`},
		{[]string{"suppress", "list", "--scope", "nosuch"}, `scope "nosuch" has no suppression list`},
		{[]string{"suppress", "list", "--sender", "nope"}, "sender nope is not published by any worker"},
	} {
		out, code := run(t, append([]string{"--redis-url", url}, tc.args...)...)
		require.Equal(t, 1, code, "%v: %s", tc.args, out)
		require.Equal(t, tc.want, last(out), "%v: %s", tc.args, out)
	}
	out, code = run(t, "--redis-url", url, "campaign", "cancel", "spring")
	require.Equal(t, 0, code, out)
	out, code = run(t, "--redis-url", url, "campaign", "pause", "spring")
	require.Equal(t, 1, code, out)
	require.Equal(t, "campaign spring is cancelled: it cannot be paused", last(out))
}

// An import that stops on its file says which file (found in review: it
// said "line 1: ..." alone, where the console says "file: line 1: ...").
func TestSuppressImport_BadFileNamesIt(t *testing.T) {
	t.Parallel()
	url, _ := published(t, &sender.Sender{ID: "eu", Rate: 5, WABAID: "101"})
	path := write(t, "optouts.csv", "number,reason\n441234567891,stop\n")
	out, code := run(t, "suppress", "import", "--redis-url", url, "--scope", "101", path)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, path+`: line 1: the header has no column "to"`)
}
