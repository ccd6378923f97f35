package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/redis/go-redis/v9"
)

// Listing bounds.
const (
	DefaultListLimit = 50
	MaxListLimit     = 500
	// listReadFactor bounds a page's work: at most Limit times this many
	// index entries are read (filtering by state reads past the campaigns
	// of other states); a page that reads that many without filling ends
	// early, with a cursor to go on.
	listReadFactor = 20
	listChunk      = 100
)

// ErrBadCursor is a list cursor that is not one this store made.
var ErrBadCursor = errors.New("campaign: cursor is not one a previous page gave")

// ListOptions select a page of campaigns.
type ListOptions struct {
	State  campaign.State // "" for every state
	Limit  int            // 1 to MaxListLimit; 0 means DefaultListLimit
	Cursor string         // from the previous page; "" for the first
}

// Page is a page of campaigns, newest first. NextCursor is "" after the
// last.
type Page struct {
	Campaigns  []*campaign.Status `json:"campaigns"`
	NextCursor string             `json:"next_cursor,omitempty"`
}

// States lists the campaign states a list can be filtered by.
func States() []campaign.State {
	return []campaign.State{campaign.StateScheduled, campaign.StateRunning, campaign.StatePaused,
		campaign.StateCancelled, campaign.StateCompleted}
}

// cursor is where a page ended in the index: the score (creation time,
// ms) and id of the last campaign read.
type cursor struct {
	score float64
	id    string
}

func (c cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatFloat(c.score, 'f', -1, 64) + "\n" + c.id))
}

func parseCursor(s string) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrBadCursor
	}
	score, id, ok := strings.Cut(string(b), "\n")
	f, err := strconv.ParseFloat(score, 64)
	if !ok || err != nil || id == "" {
		return nil, ErrBadCursor
	}
	return &cursor{score: f, id: id}, nil
}

// List returns a page of campaigns, newest first, with their live statuses.
func (s Campaigns) List(ctx context.Context, o ListOptions) (*Page, error) {
	if o.Limit == 0 {
		o.Limit = DefaultListLimit
	}
	if o.Limit < 1 || o.Limit > MaxListLimit {
		return nil, fmt.Errorf("campaign: limit must be 1 to %d, got %d", MaxListLimit, o.Limit)
	}
	cur, err := parseCursor(o.Cursor)
	if err != nil {
		return nil, err
	}
	page := &Page{Campaigns: []*campaign.Status{}}
	probe := s.NewProbe()
	maxScore := "+inf"
	if cur != nil {
		maxScore = strconv.FormatFloat(cur.score, 'f', -1, 64)
	}
	budget := o.Limit * listReadFactor
	var last *cursor
	for offset := 0; offset < budget; {
		n := min(listChunk, budget-offset)
		zs, err := s.rdb.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: s.keys.Campaigns(), ByScore: true, Rev: true,
			Start: maxScore, Stop: "-inf", Offset: int64(offset), Count: int64(n)}).Result()
		if err != nil {
			return nil, fmt.Errorf("campaign: read the campaigns index: %w", err)
		}
		offset += len(zs)
		for i, z := range zs {
			id, _ := z.Member.(string)
			last = &cursor{score: z.Score, id: id}
			// Campaigns created in the same millisecond come by id,
			// descending: those down to the cursor's were on earlier pages.
			if cur != nil && z.Score == cur.score && id >= cur.id {
				continue
			}
			st, err := probe.Status(ctx, id)
			if errors.Is(err, campaign.ErrNotFound) { // retired, not yet out of the index
				continue
			}
			if err != nil {
				return nil, err
			}
			if o.State != "" && st.State != o.State {
				continue
			}
			page.Campaigns = append(page.Campaigns, st)
			if len(page.Campaigns) == o.Limit {
				more := i < len(zs)-1
				if !more && len(zs) == n { // the chunk ended here: is there another campaign?
					next, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.keys.Campaigns(), ByScore: true, Rev: true,
						Start: maxScore, Stop: "-inf", Offset: int64(offset), Count: 1}).Result()
					if err != nil {
						return nil, fmt.Errorf("campaign: read the campaigns index: %w", err)
					}
					more = len(next) > 0
				}
				if more {
					page.NextCursor = last.String()
				}
				return page, nil
			}
		}
		if len(zs) < n {
			return page, nil // the end of the index
		}
	}
	if last != nil {
		page.NextCursor = last.String()
	}
	return page, nil
}
