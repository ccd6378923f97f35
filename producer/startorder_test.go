package producer_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// A producer with its own sender configuration paces by it until workers
// publish theirs; then the workers' rate wins, and the difference is said
// once.
func TestProducer_OwnSenderConfigurationUntilWorkersPublish(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	var logs redistest.SyncBuffer
	p, err := producer.New(producer.Config{Client: r.Client, Queue: r.Queue, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Senders: []sender.Published{{ID: "default", Rate: 200, Burst: 20}}})
	require.NoError(t, err)
	ctx := context.Background()
	enqueue := func(id string) float64 {
		c := &campaign.Campaign{ID: id, Template: mmapi.Template{Name: "t", Language: mmapi.Language{Code: "en"}}}
		_, err := p.Register(ctx, c)
		require.NoError(t, err)
		_, err = p.Enqueue(ctx, c, producer.NewCSVSource(strings.NewReader(csvRows(400))), producer.Options{})
		require.NoError(t, err)
		clock, err := r.Client.Get(ctx, r.Keys.Clock("default")).Float64()
		require.NoError(t, err)
		require.NoError(t, r.Client.Del(ctx, r.Keys.Clock("default")).Err())
		return clock
	}
	first := enqueue("before-workers")
	require.NoError(t, registry.New(r.Client, r.Keys).Publish(ctx, []*sender.Sender{{ID: "default", Rate: 100, Burst: 10}}))
	second := enqueue("after-workers")
	// 400 jobs take 2 s at 200/s, 4 s at the workers' 100/s (the clock is
	// the end of the last slot, from now).
	require.Less(t, second-first, 4500.0)
	require.Greater(t, second-first, 1000.0, "the second campaign is paced at the workers' 100/s: its slots end about 2 s later")
	require.Equal(t, 1, strings.Count(logs.String(), "the workers publish another rate"), logs.String())
	enqueue("again")
	require.Equal(t, 1, strings.Count(logs.String(), "the workers publish another rate"), "said once")
}
