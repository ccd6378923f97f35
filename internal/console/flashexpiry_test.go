package console

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// A flash ends with its minute, whatever the browser keeps: its expiry is
// signed into it, and a value replayed after it shows nothing (found in
// review: the minute was only the cookie's Max-Age, and a copied value
// showed its notice in the same session for as long as the session
// lasted).
func TestFlash_ExpiresWithItsMinute(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	p, err := producer.New(producer.Config{Client: r.Client, Queue: r.Queue, ResultsQueue: r.Results})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, registry.New(r.Client, r.Keys).Publish(ctx, []*sender.Sender{{ID: "default", Rate: 10, Burst: 1}}))
	c, err := New(Config{Producer: p, Token: "tok", Guard: guard.New(r.Client, p.Store(), guard.Config{}),
		Classify: func(err error) (int, string) { return http.StatusInternalServerError, err.Error() }})
	require.NoError(t, err)
	now := time.Now()
	c.now = func() time.Time { return now }
	sess := c.newSession(time.Now().Add(time.Hour))
	serve := func(req *http.Request, cks ...*http.Cookie) *http.Response {
		req.AddCookie(&http.Cookie{Name: cookieName, Value: sess})
		for _, ck := range cks {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		w := httptest.NewRecorder()
		c.ServeHTTP(w, req)
		return w.Result()
	}

	form := url.Values{"csrf": {c.csrfToken(sess)}, "confirm": {"yes"}}
	req := httptest.NewRequest("POST", "/ui/senders/default/pause", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res := serve(req)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	var flash *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == flashCookie {
			flash = ck
		}
	}
	require.NotNil(t, flash, "the pause's notice")
	shows := func() bool {
		res := serve(httptest.NewRequest("GET", "/ui/senders", nil), flash)
		require.Equal(t, http.StatusOK, res.StatusCode)
		var b strings.Builder
		_, err := io.Copy(&b, res.Body)
		require.NoError(t, err)
		return strings.Contains(b.String(), "Sender default paused")
	}
	require.True(t, shows(), "within its minute")
	now = now.Add(flashAge - time.Second)
	require.True(t, shows(), "still within its minute")
	now = now.Add(time.Second)
	require.False(t, shows(), "replayed after its minute")
	now = now.Add(24 * time.Hour)
	require.False(t, shows(), "replayed a day later")
}
