package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/sender"
)

// limitWait words the messaging_limit wait of st, if it has one, naming
// whose limit it is. The claim records in the campaign's hash only until
// when the limit holds it (limit_until): the limit is the sender's own, or,
// when the sender has a portfolio_id, its business portfolio's, which the
// portfolio's other senders use up too. senders reads the published
// senders, which say which.
func limitWait(ctx context.Context, st *campaign.Status, senders func(context.Context) (map[string]sender.Published, error)) error {
	if st.Waiting == nil || st.Waiting.Reason != campaign.WaitMessagingLimit {
		return nil
	}
	all, err := senders(ctx)
	if err != nil {
		return err
	}
	st.Waiting.Detail = limitDetail(st.Sender, all)
	return nil
}

// limitDetail is the detail of a messaging_limit wait of the sender id,
// all the published senders.
func limitDetail(id string, all map[string]sender.Published) string {
	const rest = " (unique recipients in a rolling window); new recipients wait for a place"
	p, ok := all[id]
	switch {
	case !ok: // no worker publishes it now: whose limit it was cannot be told
		return fmt.Sprintf("the messaging limit of the sender %s, or of its business portfolio, is reached", id) + rest
	case p.PortfolioID == "":
		return fmt.Sprintf("the sender %s reached its messaging limit", id) + rest
	}
	var others []string
	for _, q := range all {
		if q.ID != id && q.PortfolioID == p.PortfolioID {
			others = append(others, q.ID)
		}
	}
	sort.Strings(others)
	who := fmt.Sprintf("the business portfolio %s of the sender %s", p.PortfolioID, id)
	if len(others) > 0 {
		who += ", shared with " + strings.Join(others, ", ") + ","
	}
	return who + " reached its messaging limit" + rest
}

// publishedSenders reads the published senders.
func (s Campaigns) publishedSenders(ctx context.Context) (map[string]sender.Published, error) {
	all, err := registry.New(s.rdb, s.keys).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("campaign: %w", err)
	}
	return all, nil
}

// senders is Campaigns.publishedSenders, read once for all the statuses
// of the probe.
func (p *Probe) senders(ctx context.Context) (map[string]sender.Published, error) {
	if p.published == nil {
		all, err := p.s.publishedSenders(ctx)
		if err != nil {
			return nil, err
		}
		p.published = all
	}
	return p.published, nil
}
