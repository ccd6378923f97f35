package results

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/task"
)

// Delivery states a filter can name besides the final statuses: what the
// provider's status webhooks said of a sent message.
const (
	Delivered   = "delivered"   // delivered (or read)
	Read        = "read"        // read
	Undelivered = "undelivered" // accepted, then reported failed, never delivered
)

// Statuses lists what a filter's statuses may be.
func Statuses() []string {
	return append(slices.Clone(task.FinalStatuses), Undelivered, Delivered, Read)
}

// Filter selects recipients by status and error code; an empty set
// selects all.
type Filter struct {
	Statuses map[string]bool
	Codes    map[int]bool
}

// ParseFilter reads statuses and codes, each a list or comma-separated
// lists ("failed,unknown"), naming what it cannot read.
func ParseFilter(statuses, codes []string) (Filter, error) {
	f := Filter{Statuses: map[string]bool{}, Codes: map[int]bool{}}
	known := Statuses()
	for _, s := range SplitList(statuses) {
		if !slices.Contains(known, s) {
			return f, fmt.Errorf("status %q is not one of %s", s, strings.Join(known, ", "))
		}
		f.Statuses[s] = true
	}
	ns, err := ParseCodes(codes)
	if err != nil {
		return f, fmt.Errorf("code %w", err)
	}
	for _, n := range ns {
		f.Codes[n] = true
	}
	return f, nil
}

// ParseCodes reads error codes from lists of codes separated by commas or
// spaces ("131026, 131049"), naming the first it cannot read.
func ParseCodes(lists []string) ([]int, error) {
	var out []int
	for _, c := range SplitList(lists) {
		n, err := strconv.Atoi(c)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not an error code (a positive number such as 131026)", c)
		}
		out = append(out, n)
	}
	return out, nil
}

// SplitList reads the values of lists separated by commas or spaces
// ("failed,unknown", "failed unknown"), as flags and query strings give
// them.
func SplitList(lists []string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, strings.FieldsFunc(l, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })...)
	}
	return out
}

// needsDelivery says whether matching reads the messages' delivery states.
func (f Filter) needsDelivery() bool {
	return f.Statuses[Delivered] || f.Statuses[Read] || f.Statuses[Undelivered] || len(f.Codes) > 0
}

// Item is one recipient's final outcome and what webhooks said of its message.
type Item struct {
	To       string
	Outcome  *store.Outcome
	Delivery store.DeliveryState
}

// Delivered says the message reached the phone (a read implies it).
func (it Item) Delivered() bool { return it.Delivery.Delivered != nil || it.Delivery.Read != nil }

// Match says whether the filter selects the item.
func (f Filter) Match(it Item) bool {
	o := it.Outcome
	if len(f.Statuses) > 0 && !f.Statuses[o.Status] && !(f.Statuses[Delivered] && it.Delivered()) &&
		!(f.Statuses[Read] && it.Delivery.Read != nil) && !(f.Statuses[Undelivered] && it.Delivery.Undelivered()) {
		return false
	}
	if len(f.Codes) > 0 {
		code := 0
		if o.Error != nil {
			code = o.Error.Code
		}
		if !f.Codes[code] && !(it.Delivery.ErrorCode != 0 && f.Codes[it.Delivery.ErrorCode]) {
			return false
		}
	}
	return true
}

// Each calls fn with the items of campaign id the filter selects, a batch
// at a time. withDelivery reads every sent message's delivery state (the
// filter alone reads it only when it needs it).
func Each(ctx context.Context, st *store.Store, id string, f Filter, withDelivery bool, fn func([]Item) error) error {
	withDelivery = withDelivery || f.needsDelivery()
	items := make([]Item, 0, 500)
	return st.Ledger.ScanFinal(ctx, id, func(batch []store.Finished) error {
		items = items[:0]
		var wamids []string
		var at []int
		for _, b := range batch {
			if withDelivery && b.Outcome.WAMID != "" {
				wamids, at = append(wamids, b.Outcome.WAMID), append(at, len(items))
			}
			items = append(items, Item{To: b.To, Outcome: b.Outcome})
		}
		if len(wamids) > 0 {
			ds, err := st.Deliveries.States(ctx, wamids)
			if err != nil {
				return err
			}
			for i, d := range ds {
				items[at[i]].Delivery = d
			}
		}
		kept := items[:0]
		for _, it := range items {
			if f.Match(it) {
				kept = append(kept, it)
			}
		}
		if len(kept) == 0 {
			return nil
		}
		return fn(kept)
	})
}
