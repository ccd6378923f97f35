package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// FuzzCreateCampaign sends any body to POST /v1/campaigns through the real
// handler, with the default limit on a JSON value and with one of 48 bytes:
// never a 500; a 202 comes only for one whole JSON object, with no value
// over the limit, and counts every element of its recipients array once;
// an error's summary never counts more rows than the body could hold. The
// seeds are in testdata/fuzz/FuzzCreateCampaign.
func FuzzCreateCampaign(f *testing.F) {
	const tight = 48
	b := setupP(f, nil, func(c *httpapi.Config) { c.MaxBody = 64 << 10 })
	small := setupP(f, nil, func(c *httpapi.Config) { c.MaxBody, c.MaxValue = 64<<10, tight })
	var runs int
	f.Fuzz(func(t *testing.T, body []byte) {
		if runs++; runs%1000 == 0 && b.r.Mini != nil {
			b.r.Mini.FlushAll() // keeps a long fuzzing run's memory flat
			small.r.Mini.FlushAll()
		}
		checkCreate(t, b, body, 0)
		checkCreate(t, small, body, tight)
	})
}

// checkCreate posts body to b and checks the answer; limit, when set, is
// the bundle's MaxValue.
func checkCreate(t *testing.T, b *bundle, body []byte, limit int) {
	t.Helper()
	req := httptest.NewRequest("POST", "/v1/campaigns", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	b.h.ServeHTTP(w, req)
	require.NotEqual(t, http.StatusInternalServerError, w.Code, w.Body.String())
	if w.Code == http.StatusAccepted {
		for _, v := range requireAccepted(t, body, w.Body.Bytes()) {
			if limit > 0 {
				require.LessOrEqual(t, len(v), limit+1, "a 202 for a value over the limit: %q", v)
			}
		}
		return
	}
	var e struct {
		Error   string            `json:"error"`
		Summary *producer.Summary `json:"summary"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), w.Body.String())
	require.NotEmpty(t, e.Error)
	if e.Summary != nil {
		// Every element of an array but the first follows a comma.
		most := int64(bytes.Count(body, []byte(",")) + bytes.Count(body, []byte("[")))
		require.LessOrEqual(t, e.Summary.Rows(), most, w.Body.String())
		requireSummary(t, e.Summary)
	}
}

// requireAccepted checks a 202: the body was one JSON object and each of
// its recipients is counted once. It returns the object's values and the
// elements of its recipients array.
func requireAccepted(t *testing.T, body, answer []byte) (values []json.RawMessage) {
	t.Helper()
	require.True(t, json.Valid(body), "a 202 for a body that is not JSON")
	d := json.NewDecoder(bytes.NewReader(body))
	tok, err := d.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok, "a 202 for a body that is not an object")
	seen := map[string]bool{}
	var recipients []json.RawMessage
	for d.More() {
		key, err := d.Token()
		require.NoError(t, err)
		require.False(t, seen[key.(string)], "a 202 for a body with %q twice", key)
		seen[key.(string)] = true
		var v json.RawMessage
		require.NoError(t, d.Decode(&v))
		if key == "recipients" {
			require.NoError(t, json.Unmarshal(v, &recipients))
			values = append(values, recipients...)
		} else {
			values = append(values, v)
		}
	}
	var sum producer.Summary
	require.NoError(t, json.Unmarshal(answer, &sum))
	require.EqualValues(t, len(recipients), sum.Rows(), "accepted+duplicates+rejected is the number of recipients: %s", answer)
	requireSummary(t, &sum)
	return values
}

func requireSummary(t *testing.T, s *producer.Summary) {
	t.Helper()
	require.True(t, s.Accepted >= 0 && s.Duplicates >= 0 && s.Rejected >= 0)
	require.Len(t, s.Errors, int(min(s.Rejected, producer.MaxErrors)))
	require.Equal(t, s.Rejected > producer.MaxErrors, s.ErrorsTruncated)
}
