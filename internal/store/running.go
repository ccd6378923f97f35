package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/redis/go-redis/v9"
)

// Running returns the definitions of the running campaigns, in two round
// trips however many campaigns the index lists (retained ones included):
// the index, then every campaign's state and definition in one pipeline.
func (s Campaigns) Running(ctx context.Context) ([]*campaign.Campaign, error) {
	ids, err := s.rdb.ZRange(ctx, s.keys.Campaigns(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("campaign: read the campaigns index: %w", err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, s.keys.Campaign(id), "state", "def")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("campaign: read the running campaigns: %w", err)
	}
	var out []*campaign.Campaign
	for i, cmd := range cmds {
		v := cmd.Val()
		state, _ := v[0].(string)
		def, _ := v[1].(string)
		if campaign.State(state) != campaign.StateRunning || def == "" {
			continue
		}
		var c campaign.Campaign
		if err := json.Unmarshal([]byte(def), &c); err != nil {
			return nil, fmt.Errorf("campaign: decode %s: %w", ids[i], err)
		}
		out = append(out, &c)
	}
	return out, nil
}
