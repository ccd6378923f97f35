package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
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

// CheckState refuses a state a list cannot be filtered by, naming those it
// can; "" (every state) passes.
func CheckState(st campaign.State) error {
	if st == "" || slices.Contains(States(), st) {
		return nil
	}
	names := make([]string, 0, len(States()))
	for _, v := range States() {
		names = append(names, string(v))
	}
	return fmt.Errorf("state %q is not one of %s", st, strings.Join(names, ", "))
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

// check fills the default limit and reads the cursor.
func (o ListOptions) check() (ListOptions, *cursor, error) {
	if o.Limit == 0 {
		o.Limit = DefaultListLimit
	}
	if o.Limit < 1 || o.Limit > MaxListLimit {
		return o, nil, fmt.Errorf("campaign: limit must be 1 to %d, got %d", MaxListLimit, o.Limit)
	}
	cur, err := parseCursor(o.Cursor)
	return o, cur, err
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
	// Only a time as String writes it: ParseFloat also takes NaN and the
	// infinities, which Redis refuses as a score bound, and other spellings.
	if !ok || err != nil || id == "" || math.IsNaN(f) || math.IsInf(f, 0) || strconv.FormatFloat(f, 'f', -1, 64) != score {
		return nil, ErrBadCursor
	}
	return &cursor{score: f, id: id}, nil
}

// List returns a page of campaigns, newest first, with their live statuses.
func (s Campaigns) List(ctx context.Context, o ListOptions) (*Page, error) {
	o, cur, err := o.check()
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
	// A chunk is read from a score down, past the entries at that score
	// read already: each goes on from the last entry the one before read,
	// not from a position, which a campaign registered or retired
	// meanwhile would shift (a campaign listed twice, or skipped).
	start, skip := maxScore, 0
	for read := 0; read < budget; {
		n := min(listChunk, budget-read)
		zs, err := s.rdb.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: s.keys.Campaigns(), ByScore: true, Rev: true,
			Start: start, Stop: "-inf", Offset: int64(skip), Count: int64(n)}).Result()
		if err != nil {
			return nil, fmt.Errorf("campaign: read the campaigns index: %w", err)
		}
		read += len(zs)
		if len(zs) > 0 {
			start, skip = after(zs, start, skip)
		}
		for i, z := range zs {
			id, _ := z.Member.(string)
			// Campaigns created in the same millisecond come by id,
			// descending: those down to the cursor's were on earlier pages.
			// They cost none of the page's reads, so that a page always
			// goes past them (there may be more than it reads).
			if cur != nil && z.Score == cur.score && id >= cur.id {
				read--
				continue
			}
			last = &cursor{score: z.Score, id: id}
			st, err := probe.listed(ctx, id, o.State)
			if err != nil {
				return nil, err
			}
			if st == nil {
				continue
			}
			page.Campaigns = append(page.Campaigns, st)
			if len(page.Campaigns) == o.Limit {
				more := i < len(zs)-1
				if !more && len(zs) == n { // the chunk ended here: is there another campaign?
					if more, err = s.anyAt(ctx, start, skip); err != nil {
						return nil, err
					}
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

// after is where the chunk after zs starts, read from start past skip
// entries: the score of its last entry, past the entries at that score it
// read (and those read before it, when the whole chunk had that score).
func after(zs []redis.Z, start string, skip int) (string, int) {
	score := zs[len(zs)-1].Score
	at := strconv.FormatFloat(score, 'f', -1, 64)
	ties := 0
	for i := len(zs) - 1; i >= 0 && zs[i].Score == score; i-- {
		ties++
	}
	if at == start {
		return at, skip + ties
	}
	return at, ties
}

// anyAt says whether the index has an entry past offset entries, from
// maxScore down.
func (s Campaigns) anyAt(ctx context.Context, maxScore string, offset int) (bool, error) {
	next, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.keys.Campaigns(), ByScore: true, Rev: true,
		Start: maxScore, Stop: "-inf", Offset: int64(offset), Count: 1}).Result()
	if err != nil {
		return false, fmt.Errorf("campaign: read the campaigns index: %w", err)
	}
	return len(next) > 0, nil
}

// listed is a campaign's status, or nil when it is not in the state asked
// for (or gone: retired, not yet out of the index).
func (p *Probe) listed(ctx context.Context, id string, state campaign.State) (*campaign.Status, error) {
	st, err := p.Status(ctx, id)
	switch {
	case errors.Is(err, campaign.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case state != "" && st.State != state:
		return nil, nil
	}
	return st, nil
}
