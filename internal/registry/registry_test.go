package registry_test

import (
	"context"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/stretchr/testify/require"
)

// Clicks are counted once per click id and kept per day for the
// retention: a sender's click keys expire, they never grow for good.
func TestRegistry_ClicksAreBounded(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ctx := context.Background()
	reg := registry.New(r.Client, r.Keys).WithRetention(48 * time.Hour)
	for _, id := range []string{"c1", "c2", "c1"} {
		_, err := reg.CountClick(ctx, "default", "tok", id)
		require.NoError(t, err)
	}
	got, err := reg.Clicks(ctx, "default")
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"tok": 2}, got)
	keys, err := r.Client.Keys(ctx, r.Keys.Prefix()+"clicks:*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	ttl, err := r.Client.TTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 48*time.Hour)
	require.LessOrEqual(t, ttl, 72*time.Hour)
}
