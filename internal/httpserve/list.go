package httpserve

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
)

// ListQuery reads the options of a page from a query, as GET /v1/campaigns
// and the console's list take them (so that both refuse a query in the
// same words): state, limit and cursor, each at most once; a state a list
// can be filtered by; a limit from 1 to store.MaxListLimit, or 0 when not given
// (each caller has its default). The cursor is read by store's List,
// which refuses one it did not make with store.ErrBadCursor.
func ListQuery(q url.Values) (store.ListOptions, error) {
	if err := Once(q, "state", "limit", "cursor"); err != nil {
		return store.ListOptions{}, err
	}
	o := store.ListOptions{State: campaign.State(q.Get("state")), Cursor: q.Get("cursor")}
	if err := store.CheckState(o.State); err != nil {
		return o, err
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxListLimit {
			return o, fmt.Errorf("limit %q must be a number from 1 to %d", v, store.MaxListLimit)
		}
		o.Limit = n
	}
	return o, nil
}
