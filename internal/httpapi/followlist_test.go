package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// A bad value in a follow-up's statuses or codes is named by its index,
// and a list of many bad values is not echoed back whole: 200,000 unknown
// statuses (an 800 KB body) were answered with 23 MB of errors, each
// "statuses: \"x\" ..." without saying which. Nothing is registered.
func TestFollowUp_BadListsNamedByIndexAndBounded(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	const path = "/v1/campaigns/spring-sale-2026/follow-up"

	a := b.do(t, "POST", path, "application/json", `{"id": "fu", "statuses": ["failed", "FAILED"], "codes": [131026, -1]}`)
	require.Equal(t, 400, a.code, a.raw)
	require.Equal(t, `follow-up: statuses[1]: "FAILED" is not an outcome (want failed, expired, cancelled, undelivered, or unknown with include_unknown); `+
		`codes[1]: -1 is not an error code (a positive number such as 131026)`, a.body["error"])

	a = b.do(t, "POST", path, "application/json", `{"id": "fu"}`)
	require.Equal(t, 400, a.code, a.raw)
	require.Equal(t, `follow-up: statuses: name the outcomes to follow up (failed, expired, cancelled, undelivered; unknown with include_unknown)`,
		a.body["error"])

	many := `{"id": "fu", "statuses": [` + strings.TrimSuffix(strings.Repeat(`"x",`, 200000), ",") + `]}`
	a = b.do(t, "POST", path, "application/json", many)
	require.Equal(t, 400, a.code, a.raw[:min(len(a.raw), 500)])
	require.Less(t, len(a.raw), 2000, "the errors are bounded")
	require.Contains(t, a.body["error"], `statuses[0]: "x" is not an outcome`)
	require.Contains(t, a.body["error"], `statuses[9]: "x" is not an outcome`)
	require.NotContains(t, a.body["error"], `statuses[10]:`)
	require.Contains(t, a.body["error"], "and 199990 more bad values")
	require.Equal(t, 404, b.do(t, "GET", "/v1/campaigns/fu", "", "").code, "nothing registered")
}

// A follow-up's code or status of the wrong type is named by its index:
// "codes": [131026, "131049"] was told "codes: want int, got string", not
// which code.
func TestFollowUp_WrongTypeInAListNamesItsIndex(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	for body, want := range map[string]string{
		`{"id": "fu", "statuses": ["failed"], "codes": [131026, "131049"]}`: `codes[1]: want int, got string`,
		`{"id": "fu", "statuses": ["failed"], "codes": [ 131026.0 ]}`:       `codes[0]: want int, got number 131026.0`,
		`{"id": "fu", "statuses": ["failed"], "codes": [1, 2, [3]]}`:        `codes[2]: want int, got array`,
		`{"id": "fu", "statuses": ["failed"], "codes": [1e40]}`:             `codes[0]: want int, got number 1e40`,
		`{"id": "fu", "statuses": ["failed", {"s": "expired"}]}`:            `statuses[1]: want string, got object`,
		`{"id": "fu", "statuses": ["failed"], "codes": 131026}`:             `codes: want an array, got number`,
		`{"id": 7, "statuses": ["failed"]}`:                                 `id: want string, got number`,
	} {
		a := b.do(t, "POST", "/v1/campaigns/spring-sale-2026/follow-up", "application/json", body)
		require.Equal(t, 400, a.code, "%s: %s", body, a.raw)
		require.Equal(t, want, a.body["error"], body)
	}
}

// The 409 of a follow-up into the id of another follow-up says what that
// one took without echoing every code it was given: a follow-up with
// 140,000 codes made every later 409 under its id about 1 MB long.
func TestFollowUp_ConflictClipsTheOtherFollowUpsCodes(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [`+rows(0, 1)+`]}`).code)
	_, err := b.p.Store().Ledger.Settle(ctx, "spring-sale-2026", "447700900000",
		store.Outcome{Status: task.StatusFailed, Error: &task.Error{Code: 131026}}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	codes := []string{"131026"}
	for i := range 1000 {
		codes = append(codes, fmt.Sprint(200000+i))
	}
	a := b.do(t, "POST", "/v1/campaigns/spring-sale-2026/follow-up", "application/json",
		`{"id": "fu", "statuses": ["failed"], "codes": [`+strings.Join(codes, ",")+`]}`)
	require.Equal(t, 202, a.code, a.raw)

	a = b.do(t, "POST", "/v1/campaigns/spring-sale-2026/follow-up", "application/json", `{"id": "fu", "statuses": ["expired"]}`)
	require.Equal(t, 409, a.code, a.raw)
	require.Equal(t, "campaign fu exists: it is a follow-up of spring-sale-2026 (statuses failed, codes 131026,200000,200001,200002,200003,200004,200005,200006,200007,200008 and 991 more): choose another id",
		a.body["error"])
}
