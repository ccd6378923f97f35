package registry_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/redis/go-redis/v9"
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

// A click whose count failed is counted when the provider delivers its
// webhook again: the click id was marked seen before the count, so the
// redelivery was dropped and the click never counted.
func TestRegistry_ClickCountedAfterAFailure(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ctx := context.Background()
	reg := registry.New(r.Client, r.Keys)
	cl, ok := r.Client.(*redis.Client)
	if !ok {
		t.Skip("needs a single-node client for the hook")
	}
	prefix := r.Keys.Prefix() + "clicks:" // the first command that writes a sender's clicks
	cl.AddHook(redistest.NewFailMatching(1, func(c redis.Cmder) bool {
		return slices.ContainsFunc(c.Args(), func(a any) bool { s, ok := a.(string); return ok && strings.HasPrefix(s, prefix) })
	}))
	_, err := reg.CountClick(ctx, "default", "tok", "c1")
	require.ErrorIs(t, err, redistest.ErrInjected)
	fresh, err := reg.CountClick(ctx, "default", "tok", "c1")
	require.NoError(t, err)
	require.True(t, fresh, "the redelivery counts it")
	got, err := reg.Clicks(ctx, "default")
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"tok": 1}, got)
	fresh, err = reg.CountClick(ctx, "default", "tok", "c1")
	require.NoError(t, err)
	require.False(t, fresh, "and only once")
}

func TestPublishedAndHasScope(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ctx := context.Background()
	reg := registry.New(r.Client, r.Keys)
	require.NoError(t, reg.Publish(ctx, []*sender.Sender{{ID: "eu", Rate: 1, Burst: 1, WABAID: "W1"}, {ID: "us", Rate: 1, Burst: 1}}))
	p, err := reg.Published(ctx, "eu")
	require.NoError(t, err)
	require.Equal(t, "W1", p.WABAID)
	_, err = reg.Published(ctx, "nosuch")
	require.ErrorIs(t, err, registry.ErrNotPublished)
	require.EqualError(t, err, "sender nosuch is not published by any worker")
	for scope, want := range map[string]bool{"W1": true, "us": true, "eu": false, "W2": false} {
		got, err := reg.HasScope(ctx, scope)
		require.NoError(t, err)
		require.Equal(t, want, got, scope)
	}
}

// A suppression list named by a mistyped WABA id ("1234 5678", a letter O
// for a zero, a phone number) was refused as no published sender's, with
// nothing to say the id could be no WABA's at all. The refusal says a WABA
// id is digits only when the scope is not a Meta id; it still names a
// scope that may be a sender id so (a scope is a WABA id, or the id of a
// sender without one).
func TestScopeNotPublished_SaysAWABAIDIsDigits(t *testing.T) {
	t.Parallel()
	for scope, want := range map[string]string{
		"1234 5678":       "scope 1234 5678 is no published sender's WABA (or sender id), and a WABA id is digits only",
		"12345678O":       "scope 12345678O is no published sender's WABA (or sender id), and a WABA id is digits only",
		"+15550783881":    "scope +15550783881 is no published sender's WABA (or sender id), and a WABA id is digits only",
		"102290129340398": "scope 102290129340398 is no published sender's WABA (or sender id)",
	} {
		err := registry.ScopeNotPublished(scope)
		require.EqualError(t, err, want, scope)
		require.ErrorIs(t, err, registry.ErrScopeNotPublished, scope)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	all := map[string]sender.Published{"s": {ID: "s", WABAID: "W"}}
	require.Equal(t, "W", registry.Lookup(all, "s").Scope())
	require.Equal(t, "other", registry.Lookup(all, "other").Scope(), "not published: its scope is its id")
}
