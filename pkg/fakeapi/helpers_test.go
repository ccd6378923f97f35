package fakeapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/testctx"
	"github.com/stretchr/testify/require"
)

const (
	testKey  = "k1"
	metaPath = "/v23.0/106540352242922/marketing_messages"
)

// fake is a Server behind a real HTTP server.
type fake struct {
	*Server
	srv *httptest.Server
}

func newFake(t *testing.T, cfg Config) *fake {
	t.Helper()
	return newFakeWith(t, cfg, nil)
}

// newFakeWith is newFake with a chance to adjust the Server before it
// serves.
func newFakeWith(t *testing.T, cfg Config, prep func(*Server)) *fake {
	t.Helper()
	s, err := New(cfg)
	require.NoError(t, err)
	if prep != nil {
		prep(s)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		s.Close() // releases hanging requests first
		srv.Close()
	})
	return &fake{Server: s, srv: srv}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// do posts body to path with the given headers and returns the answer.
func (f *fake) do(t *testing.T, method, path string, header map[string]string, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := f.srv.Client()
	client.Timeout = 10 * time.Second
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// timeoutOnceRecorded posts body for to to the 360dialog endpoint with a
// client that times out 200 ms after the fake has recorded the attempt (or
// after 30 s if it never does), and returns the client's error. A fixed
// client timeout could run out on a loaded machine before the fake even read
// the request.
func (f *fake) timeoutOnceRecorded(t *testing.T, body, to string) error {
	t.Helper()
	ctx := testctx.NewExpiring()
	defer ctx.Expire()
	go func() {
		defer ctx.Expire()
		for deadline := time.Now().Add(30 * time.Second); f.Attempts(to) == 0 && time.Now().Before(deadline); {
			select {
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
		select { // and then no answer for a while
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+"/marketing_messages", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("D360-API-KEY", testKey)
	req.Header.Set("Content-Type", "application/json")
	client := *f.srv.Client() // shared, and do sets a timeout on it
	client.Timeout = 0
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return err
}

func (f *fake) send360(t *testing.T, key, body string) reply {
	t.Helper()
	return f.do(t, http.MethodPost, "/marketing_messages",
		map[string]string{"D360-API-KEY": key, "Content-Type": "application/json"}, body)
}

func (f *fake) sendMeta(t *testing.T, token, body string) reply {
	t.Helper()
	return f.do(t, http.MethodPost, metaPath,
		map[string]string{"Authorization": "Bearer " + token, "Content-Type": "application/json"}, body)
}

// fixture reads a file copied from shared/fixtures into testdata.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// body returns send_request.json with "to" set and fields changed by mod.
func body(t *testing.T, to string, mod func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(fixture(t, "send_request.json"), &m))
	m["to"] = to
	if mod != nil {
		mod(m)
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

// decode unmarshals b into a generic JSON value.
func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(b, &v), "body: %s", b)
	return v
}

// graph returns the Graph error object of an answer in either envelope.
func graph(t *testing.T, b []byte) map[string]any {
	t.Helper()
	m, ok := decode(t, b).(map[string]any)
	require.True(t, ok, "body: %s", b)
	if d, ok := m["detail"].(map[string]any); ok {
		m = d
	}
	e, ok := m["error"].(map[string]any)
	require.True(t, ok, "no error object in %s", b)
	return e
}

func code(t *testing.T, b []byte) int {
	t.Helper()
	c, ok := graph(t, b)["code"].(float64)
	require.True(t, ok, "no code in %s", b)
	return int(c)
}

func details(t *testing.T, b []byte) string {
	t.Helper()
	d, _ := graph(t, b)["error_data"].(map[string]any)
	s, _ := d["details"].(string)
	return s
}

// sameError compares an error body with a fixture, ignoring fbtrace_id.
func sameError(t *testing.T, fixtureName string, got []byte) {
	t.Helper()
	want := decode(t, fixture(t, fixtureName))
	have := decode(t, got)
	graphOf(want)["fbtrace_id"] = "X"
	graphOf(have)["fbtrace_id"] = "X"
	require.Equal(t, want, have, "got %s", got)
}

func graphOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	if d, ok := m["detail"].(map[string]any); ok {
		m = d
	}
	e, _ := m["error"].(map[string]any)
	if e == nil {
		return map[string]any{}
	}
	return e
}

// shape replaces every JSON leaf by its type name, keeping object keys and
// the shape of the first array element.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = shape(e)
		}
		return out
	case []any:
		if len(x) == 0 {
			return []any{}
		}
		return []any{shape(x[0])}
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return "null"
}

func ptr[T any](v T) *T { return &v }
