package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A campaign's eta never lies past its expires_at: every recipient left
// then is reported expired (found in review: the eta of a campaign sending
// slower than its list needs was its rate's estimate, long after the
// expiry).
func TestStatus_ETANotPastTheExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := valid()
	exp := time.Now().Add(time.Minute).Truncate(time.Second)
	c.ExpiresAt = &exp
	c.Normalize()
	_, err := b.store.Campaigns.Register(b.ctx, &c)
	require.NoError(t, err)
	ck := b.r.Keys.Campaign(c.ID)
	bucket := time.Now().UnixMilli() / 10_000
	require.NoError(t, b.r.Client.HSet(b.ctx, ck, "enqueued", 1000, "sent", 6, fmt.Sprintf("r:%d", bucket), 6).Err())
	st, err := b.store.Campaigns.Status(b.ctx, c.ID)
	require.NoError(t, err)
	require.Positive(t, st.Rate)
	require.NotNil(t, st.ETA)
	require.False(t, st.ETA.After(exp), "eta %s is past the expiry %s", st.ETA, exp)
}
