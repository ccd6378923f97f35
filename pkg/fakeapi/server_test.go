package fakeapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAuth360(t *testing.T) {
	f := newFake(t, Config{Keys: []string{testKey}})
	for name, key := range map[string]string{"missing": "", "unknown": "nope"} {
		t.Run(name, func(t *testing.T) {
			r := f.send360(t, key, body(t, "441234567890", nil))
			require.Equal(t, http.StatusUnauthorized, r.status)
			require.Equal(t, "application/json", r.header.Get("Content-Type"))
			require.Equal(t, strings.TrimSpace(string(fixture(t, "error_360_invalid_key.json"))), string(r.body))
		})
	}
	r := f.send360(t, testKey, body(t, "441234567890", nil))
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	// A Meta bearer header does not authenticate the 360dialog path.
	r = f.do(t, http.MethodPost, "/marketing_messages",
		map[string]string{"Authorization": "Bearer " + testKey, "Content-Type": "application/json"}, body(t, "441234567890", nil))
	require.Equal(t, http.StatusUnauthorized, r.status)
}

func TestAuthMeta(t *testing.T) {
	f := newFake(t, Config{Keys: []string{testKey}})
	for name, auth := range map[string]string{
		"missing":   "",
		"no bearer": testKey,
		"basic":     "Basic " + testKey,
		"empty":     "Bearer ",
		"unknown":   "Bearer nope",
	} {
		t.Run(name, func(t *testing.T) {
			r := f.do(t, http.MethodPost, metaPath,
				map[string]string{"Authorization": auth, "Content-Type": "application/json"}, body(t, "441234567890", nil))
			require.Equal(t, http.StatusUnauthorized, r.status)
			e := graph(t, r.body)
			require.EqualValues(t, 190, e["code"])
			require.Equal(t, "OAuthException", e["type"])
			require.Equal(t, "Invalid OAuth access token - Cannot parse access token", e["message"])
			require.NotEmpty(t, e["fbtrace_id"])
			require.NotContains(t, string(r.body), `"detail"`)
		})
	}
	for _, path := range []string{metaPath, "/106540352242922/marketing_messages", "/v24/1/marketing_messages"} {
		r := f.do(t, http.MethodPost, path,
			map[string]string{"Authorization": "bearer " + testKey, "Content-Type": "application/json"}, body(t, "441234567890", nil))
		require.Equal(t, http.StatusOK, r.status, "%s: %s", path, r.body)
	}
}

func TestAnyKeyWhenNoKeysConfigured(t *testing.T) {
	f := newFake(t, Config{})
	require.Equal(t, http.StatusOK, f.send360(t, "whatever", body(t, "441234567890", nil)).status)
	require.Equal(t, http.StatusOK, f.sendMeta(t, "tok", body(t, "441234567890", nil)).status)
	require.Equal(t, http.StatusUnauthorized, f.send360(t, "", body(t, "441234567890", nil)).status)
}

var wamidRE = regexp.MustCompile(`^wamid\.[A-Za-z0-9+/]+=*$`)

func TestSuccessMatchesFixture(t *testing.T) {
	f := newFake(t, Config{})
	for name, send := range map[string]func(*testing.T, string, string) reply{"360": f.send360, "meta": f.sendMeta} {
		t.Run(name, func(t *testing.T) {
			r := send(t, testKey, string(fixture(t, "send_request_personalised.json")))
			require.Equal(t, http.StatusOK, r.status, "%s", r.body)
			require.Equal(t, "application/json", r.header.Get("Content-Type"))
			got := decode(t, r.body)
			require.Equal(t, shape(decode(t, fixture(t, "send_response_ok.json"))), shape(got))

			var resp sendResponse
			require.NoError(t, json.Unmarshal(r.body, &resp))
			require.Equal(t, "whatsapp", resp.MessagingProduct)
			require.Equal(t, []contact{{Input: "5511987654321", WaID: "5511987654321"}}, resp.Contacts)
			require.Len(t, resp.Messages, 1)
			require.Equal(t, "accepted", resp.Messages[0].MessageStatus)
			require.Regexp(t, wamidRE, resp.Messages[0].ID)
		})
	}
}

func TestWAMIDsUniqueAndWellFormed(t *testing.T) {
	a, b := newWamidGen(), newWamidGen()
	seen := make(map[string]bool)
	for i := 0; i < 5000; i++ {
		for _, g := range []*wamidGen{a, b} {
			id := g.next("441234567890")
			require.Regexp(t, wamidRE, id)
			require.False(t, seen[id], "duplicate %s", id)
			seen[id] = true
		}
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a.next("441234567890"), "wamid."))
	require.NoError(t, err)
	require.Contains(t, string(raw), "441234567890")
}

func TestErrorEnvelopesMatchFixtures(t *testing.T) {
	t.Run("360 wrapped undeliverable", func(t *testing.T) {
		f := newFake(t, Config{FailRecipients: map[string]int{"441234567890": 131026}})
		r := f.send360(t, testKey, body(t, "441234567890", nil))
		require.Equal(t, http.StatusBadRequest, r.status)
		sameError(t, "error_360_wrapped_undeliverable.json", r.body)
	})
	t.Run("360 wrapped not marketing", func(t *testing.T) {
		f := newFake(t, Config{Errors: []ErrorRule{{Share: 1, Code: 131055}}})
		r := f.send360(t, testKey, body(t, "441234567890", nil))
		require.Equal(t, http.StatusBadRequest, r.status)
		sameError(t, "error_360_wrapped_not_marketing.json", r.body)
	})
	t.Run("meta template missing", func(t *testing.T) {
		f := newFake(t, Config{Templates: []string{"other"}})
		r := f.sendMeta(t, testKey, string(fixture(t, "send_request_personalised.json")))
		require.Equal(t, http.StatusNotFound, r.status)
		sameError(t, "error_meta_template_missing.json", r.body)
	})
	t.Run("meta throughput", func(t *testing.T) {
		f := newFake(t, Config{Errors: []ErrorRule{{Share: 1, Code: 130429}}})
		r := f.sendMeta(t, testKey, body(t, "441234567890", nil))
		require.Equal(t, http.StatusBadRequest, r.status)
		sameError(t, "error_meta_throughput.json", r.body)
	})
}

func TestRoutes(t *testing.T) {
	f := newFake(t, Config{})
	for _, path := range []string{"/", "/messages", "/v23.0/marketing_messages", "/x/1/marketing_messages",
		"/v23.0/1/marketing_messages/extra", "/_fake/nothing", "/marketing_messages/"} {
		r := f.do(t, http.MethodPost, path, map[string]string{"D360-API-KEY": testKey, "Content-Type": "application/json"}, "{}")
		require.Equal(t, http.StatusNotFound, r.status, path)
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
		require.Equal(t, 100, code(t, r.body))
	}
	r := f.do(t, http.MethodGet, "/marketing_messages", map[string]string{"D360-API-KEY": testKey}, "")
	require.Equal(t, http.StatusMethodNotAllowed, r.status)
	require.Equal(t, http.MethodPost, r.header.Get("Allow"))
	require.Equal(t, 100, code(t, r.body))
	require.Zero(t, f.Stats().Requests)
}
