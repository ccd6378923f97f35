package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/redis/go-redis/v9"
)

// CallbackURLMargin is how long a campaign's own callback_url is kept
// after its other keys at the latest (see Register): its callbacks may
// still be retried for MMLITE_RELAY_MAX_AGE (at most 90 days), then wait
// in asynq's archive (90 days) to be replayed, after the campaign's keys
// expired; each must still go to the campaign's URL, never to
// MMLITE_RESULTS_URL in its place. The campaign's keys expire at the latest
// two retentions after its end (created with its end plus a retention,
// given a retention from when it finishes, before that), so the URL is
// kept until its end plus two retentions plus this margin.
const CallbackURLMargin = 180 * 24 * time.Hour

// CallbackURL returns a campaign's own callback_url, "" when it had none:
// from its definition while the campaign is kept, then from the key that
// outlives it (see CallbackURLMargin).
func (s Campaigns) CallbackURL(ctx context.Context, id string) (string, error) {
	c, err := s.Get(ctx, id)
	if err == nil {
		return c.CallbackURL, nil
	}
	if !errors.Is(err, campaign.ErrNotFound) {
		return "", err
	}
	u, err := s.rdb.Get(ctx, s.keys.CallbackURL(id)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("campaign: the callback_url of %s: %w", id, err)
	}
	return u, nil
}
