package fakeapi

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRateLimitPerKey(t *testing.T) {
	f := newFake(t, Config{RateLimit: 0.001, RateBurst: 3})
	for i := 0; i < 3; i++ {
		require.Equal(t, http.StatusOK, f.send360(t, "a", body(t, "441234567890", nil)).status)
	}
	r := f.send360(t, "a", body(t, "441234567890", nil))
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, "application/json", r.header.Get("Content-Type"))
	require.Equal(t, strings.TrimSpace(string(fixture(t, "error_360_rate_limit.json"))), string(r.body))

	// Another key has its own bucket.
	require.Equal(t, http.StatusOK, f.send360(t, "b", body(t, "441234567890", nil)).status)

	// The Meta path answers with 130429 in the Graph envelope.
	for i := 0; i < 3; i++ {
		require.Equal(t, http.StatusOK, f.sendMeta(t, "c", body(t, "441234567890", nil)).status)
	}
	r = f.sendMeta(t, "c", body(t, "441234567890", nil))
	require.Equal(t, http.StatusBadRequest, r.status)
	sameError(t, "error_meta_throughput.json", r.body)

	st := f.Stats()
	require.EqualValues(t, 1, st.ByCode["rate_limit"])
	require.EqualValues(t, 1, st.ByCode["130429"])
	require.Len(t, f.AcceptedTimes("a"), 3)
	require.Len(t, f.AcceptedTimes(""), 7)

	// Reset gives fresh buckets.
	f.Reset()
	require.Equal(t, http.StatusOK, f.send360(t, "a", body(t, "441234567890", nil)).status)
}

func TestDefaultBurstIsOne(t *testing.T) {
	f := newFake(t, Config{RateLimit: 0.001})
	require.Equal(t, http.StatusOK, f.send360(t, "a", body(t, "441234567890", nil)).status)
	require.Equal(t, http.StatusBadRequest, f.send360(t, "a", body(t, "441234567890", nil)).status)
}

func TestErrorRulesAtFullShare(t *testing.T) {
	tests := []struct {
		rule        ErrorRule
		status      int
		code        int    // Meta code, 0 = none
		body        string // exact body for code-less answers
		contentType string
		retryAfter  bool
		statKey     string
	}{
		{rule: ErrorRule{Code: 131000}, status: 500, code: 131000, statKey: "131000"},
		{rule: ErrorRule{Code: 131016}, status: 503, code: 131016, statKey: "131016"},
		{rule: ErrorRule{Code: 133004}, status: 503, code: 133004, statKey: "133004"},
		{rule: ErrorRule{Code: 2}, status: 503, code: 2, statKey: "2"},
		{rule: ErrorRule{Code: 1}, status: 400, code: 1, statKey: "1"},
		{rule: ErrorRule{Code: 134102}, status: 500, code: 134102, statKey: "134102"},
		{rule: ErrorRule{Code: 368}, status: 403, code: 368, statKey: "368"},
		{rule: ErrorRule{Code: 131031}, status: 403, code: 131031, statKey: "131031"},
		{rule: ErrorRule{Code: 130497}, status: 403, code: 130497, statKey: "130497"},
		{rule: ErrorRule{Code: 131056}, status: 400, code: 131056, statKey: "131056"},
		{rule: ErrorRule{Code: 999999}, status: 400, code: 999999, statKey: "999999"},
		{rule: ErrorRule{Code: 130429, HTTPStatus: 429}, status: 429, code: 130429, retryAfter: true, statKey: "130429"},
		{rule: ErrorRule{HTTPStatus: 500}, status: 500, body: body500, contentType: "application/json", statKey: "http_500"},
		{rule: ErrorRule{HTTPStatus: 502}, status: 502, body: body502, contentType: "text/plain; charset=utf-8", statKey: "http_502"},
		{rule: ErrorRule{HTTPStatus: 503}, status: 503, body: body503, contentType: "application/json", statKey: "http_503"},
		{rule: ErrorRule{HTTPStatus: 429}, status: 429, body: body360TooMany, contentType: "application/json", retryAfter: true, statKey: "http_429"},
	}
	for _, tc := range tests {
		t.Run(tc.statKey, func(t *testing.T) {
			tc.rule.Share = 1
			f := newFake(t, Config{Errors: []ErrorRule{tc.rule}})
			for _, send := range []func(*testing.T, string, string) reply{f.send360, f.sendMeta} {
				r := send(t, testKey, body(t, "441234567890", nil))
				require.Equal(t, tc.status, r.status, "%s", r.body)
				if tc.retryAfter {
					require.Equal(t, "1", r.header.Get("Retry-After"))
				}
				if tc.code == 0 {
					require.Equal(t, tc.body, string(r.body))
					require.Equal(t, tc.contentType, r.header.Get("Content-Type"))
					continue
				}
				require.Equal(t, "application/json", r.header.Get("Content-Type"))
				e := graph(t, r.body)
				require.EqualValues(t, tc.code, e["code"])
				require.True(t, strings.HasPrefix(e["message"].(string), "(#"))
				require.NotEmpty(t, details(t, r.body))
			}
			require.EqualValues(t, 2, f.Stats().ByCode[tc.statKey])
			require.Zero(t, f.Sends("441234567890"))
			require.Equal(t, 2, f.Attempts("441234567890"))
		})
	}
}

func TestErrorRulesShareZeroAndCumulative(t *testing.T) {
	f := newFake(t, Config{Seed: 7, Errors: []ErrorRule{{Share: 0, Code: 131000}, {Share: 0.5, Code: 131026}}})
	codes := map[int]int{}
	for i := 0; i < 200; i++ {
		r := f.send360(t, testKey, body(t, "441234567890", nil))
		if r.status == http.StatusOK {
			codes[0]++
		} else {
			codes[code(t, r.body)]++
		}
	}
	require.Zero(t, codes[131000])
	require.Greater(t, codes[131026], 50)
	require.Greater(t, codes[0], 50)
}

func TestResetClosesConnection(t *testing.T) {
	f := newFake(t, Config{Errors: []ErrorRule{{Share: 1, Action: ActionReset}}})
	sent := body(t, "441234567890", nil)
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/marketing_messages", strings.NewReader(sent))
	require.NoError(t, err)
	req.Header.Set("D360-API-KEY", testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err)

	require.Equal(t, 1, f.Attempts("441234567890"))
	require.Zero(t, f.Sends("441234567890"))
	require.EqualValues(t, 1, f.Stats().ByCode["reset"])
	reqs := f.Requests()
	require.Len(t, reqs, 1)
	require.Zero(t, reqs[0].Status)
	require.JSONEq(t, sent, string(reqs[0].Body), "the whole request was read")
}

func TestHangUntilClientGivesUp(t *testing.T) {
	f := newFake(t, Config{Errors: []ErrorRule{{Share: 1, Action: ActionHang}}})
	err := f.timeoutOnceRecorded(t, body(t, "441234567890", nil), "441234567890")
	var ne net.Error
	require.True(t, errors.As(err, &ne) && ne.Timeout(), "want a timeout, got %v", err)
	require.Equal(t, 1, f.Attempts("441234567890"))
	require.EqualValues(t, 1, f.Stats().ByCode["hang"])
}

func TestFailRecipientsAndTemplates(t *testing.T) {
	f := newFake(t, Config{
		Templates:      []string{"marketing_text_no_param"},
		FailRecipients: map[string]int{"441234567891": 131050, "441234567892": 131000},
	})
	r := f.sendMeta(t, testKey, body(t, "441234567891", nil))
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, 131050, code(t, r.body))
	require.Equal(t, "(#131050) User has stopped marketing messages", graph(t, r.body)["message"])
	r = f.send360(t, testKey, body(t, "441234567892", nil))
	require.Equal(t, http.StatusInternalServerError, r.status)
	require.Equal(t, 131000, code(t, r.body))
	require.Equal(t, http.StatusOK, f.send360(t, testKey, body(t, "441234567890", nil)).status)

	r = f.send360(t, testKey, body(t, "441234567890", func(m map[string]any) {
		m["template"].(map[string]any)["name"] = "spring_sale"
	}))
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, 132001, code(t, r.body))
	require.Equal(t, "template name (spring_sale) does not exist in en", details(t, r.body))
	require.Contains(t, string(r.body), `"detail"`)
}

func TestRecords(t *testing.T) {
	f := newFake(t, Config{Keys: []string{"a", "b"}, FailRecipients: map[string]int{"449999999999": 131026}})
	require.Equal(t, http.StatusOK, f.send360(t, "a", body(t, "441111111111", nil)).status)
	require.Equal(t, http.StatusOK, f.send360(t, "a", body(t, "441111111111", nil)).status)
	require.Equal(t, http.StatusOK, f.sendMeta(t, "b", body(t, "442222222222", nil)).status)
	require.Equal(t, http.StatusBadRequest, f.send360(t, "b", body(t, "449999999999", nil)).status)
	require.Equal(t, http.StatusUnauthorized, f.send360(t, "nope", body(t, "443333333333", nil)).status)
	require.Equal(t, http.StatusBadRequest, f.send360(t, "a", `{"to":"444444444444"}`).status)
	require.Equal(t, http.StatusBadRequest, f.send360(t, "a", `not json`).status)

	require.Equal(t, 2, f.Sends("441111111111"))
	require.Equal(t, 1, f.Sends("442222222222"))
	require.Zero(t, f.Sends("449999999999"))
	require.Equal(t, 1, f.Attempts("449999999999"))
	require.Equal(t, 1, f.Attempts("443333333333"), "unauthorised attempts count too")
	require.Equal(t, 1, f.Attempts("444444444444"))

	st := f.Stats()
	require.EqualValues(t, 7, st.Requests)
	require.EqualValues(t, 3, st.Accepted)
	require.EqualValues(t, 4, st.Rejected)
	require.Equal(t, 2, st.Recipients)
	require.Equal(t, 1, st.Duplicates)
	require.Equal(t, map[string]int64{"131026": 1, "http_401": 1, "100": 2}, st.ByCode)

	reqs := f.Requests()
	require.Len(t, reqs, 5, "unauthorised and undecodable requests are not recorded")
	require.Equal(t, []string{"441111111111", "441111111111", "442222222222", "449999999999", "444444444444"},
		[]string{reqs[0].To, reqs[1].To, reqs[2].To, reqs[3].To, reqs[4].To})
	require.Equal(t, "b", reqs[2].Key)
	require.Equal(t, 131026, reqs[3].Code)
	require.Equal(t, http.StatusBadRequest, reqs[3].Status)
	require.NotEqual(t, reqs[0].WAMID, reqs[1].WAMID)
	require.Regexp(t, wamidRE, reqs[0].WAMID)
	for i := 1; i < len(reqs); i++ {
		require.False(t, reqs[i].At.Before(reqs[i-1].At))
	}
	require.Len(t, f.AcceptedTimes("a"), 2)
	require.Len(t, f.AcceptedTimes("b"), 1)
	require.Len(t, f.AcceptedTimes(""), 3)

	f.Reset()
	require.Zero(t, f.Stats().Requests)
	require.Empty(t, f.Requests())
	require.Zero(t, f.Sends("441111111111"))
}

func TestRecordsAreCapped(t *testing.T) {
	f := newFakeWith(t, Config{}, func(s *Server) { s.rec = newRecorder(3) })
	for _, to := range []string{"441000000001", "441000000002", "441000000003", "441000000004", "441000000005"} {
		require.Equal(t, http.StatusOK, f.send360(t, testKey, body(t, to, nil)).status)
	}
	reqs := f.Requests()
	require.Len(t, reqs, 3)
	require.Equal(t, []string{"441000000003", "441000000004", "441000000005"}, []string{reqs[0].To, reqs[1].To, reqs[2].To})
	require.EqualValues(t, 5, f.Stats().Accepted)
	require.Equal(t, 5, f.Stats().Recipients)
}

func TestLatency(t *testing.T) {
	f := newFake(t, Config{Latency: Duration(30 * time.Millisecond)})
	start := time.Now()
	require.Equal(t, http.StatusOK, f.send360(t, testKey, body(t, "441234567890", nil)).status)
	require.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)

	// An accepted message is recorded even when the client gives up first
	// (recorded only after the latency, it would never be, and the client
	// would give up after 30 s).
	require.NoError(t, f.SetConfig(Config{Latency: Duration(time.Minute)}))
	err := f.timeoutOnceRecorded(t, body(t, "441234567899", nil), "441234567899")
	require.Error(t, err)
	require.Equal(t, 1, f.Sends("441234567899"))
}
