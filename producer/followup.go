package producer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/results"
	"github.com/mmlite/mmlite/internal/sentence"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// FollowUp says what a follow-up campaign changes from its source and
// which of the source's recipients it takes.
type FollowUp struct {
	// ID is the new campaign's; it must not exist.
	ID string `json:"id"`
	// Statuses are the outcomes followed up: failed, expired, cancelled,
	// undelivered (sent, then reported failed by a webhook); unknown only
	// with IncludeUnknown.
	Statuses []string `json:"statuses"`
	// Codes, when given, keep only the recipients whose error has one of
	// them (the send's, or the failed delivery's).
	Codes []int `json:"codes,omitempty"`
	// SendAt and ExpiresAt are the new campaign's (the source's are not
	// copied: they have passed).
	SendAt    *time.Time `json:"send_at,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Template replaces the source's template (name, language, components).
	Template *mmapi.Template `json:"template,omitempty"`
	// IncludeUnknown takes the recipients whose outcome is unknown too:
	// they may have received the first message.
	IncludeUnknown bool `json:"include_unknown,omitempty"`
}

// Followable are the outcomes a follow-up may take (unknown only with
// IncludeUnknown).
var Followable = []string{task.StatusFailed, task.StatusExpired, task.StatusCancelled, task.StatusUnknown, results.Undelivered}

// ErrNoMatch is a follow-up whose filter matches none of the source's
// recipients: nothing was registered.
var ErrNoMatch = errors.New("producer: the follow-up matches no recipient")

// FollowUp registers a new campaign, a copy of a finished campaign's
// definition with f's changes (same sender), with the source's recipients
// whose outcome f selects, each with its own parameters and metadata (kept
// in the ledger until the retention), and seals it. A recipient whose
// message was delivered or read is never taken. A follow-up into an
// existing id is campaign.ErrConflict, unless it is the same follow-up
// (source, outcomes, codes, template and times): asked again after a
// failure part-way, it enqueues what is missing and seals. Of a campaign
// still sending it is campaign.ErrState; one that matches nobody,
// ErrNoMatch, and registers nothing.
func (p *Producer) FollowUp(ctx context.Context, source string, f FollowUp) (*Summary, error) {
	src, err := p.store.Campaigns.Get(ctx, source)
	if err != nil {
		return nil, err
	}
	filter, err := followFilter(f)
	if err != nil {
		return nil, err
	}
	st, err := p.store.Campaigns.Status(ctx, source)
	if err != nil {
		return nil, err
	}
	if !st.State.Final() || st.FinishedAt == nil {
		return nil, sentence.Of(campaign.ErrState, "campaign %s is still sending (%s, %d of %d recipients final%s): follow it up once it is over",
			source, st.State, st.Counts.Final(), st.Counts.Enqueued, unsealedHint(st))
	}
	c := *src
	c.ID, c.SendAt, c.ExpiresAt = f.ID, f.SendAt, f.ExpiresAt
	if f.Template != nil {
		c.Template = *f.Template
	}
	// What Register would refuse (the copy's rules, its callback_url,
	// its sender) is refused before the id is claimed: a refusal leaves
	// nothing under it.
	if err := p.checkCampaign(&c); err != nil {
		return nil, err
	}
	if _, err := p.sender(ctx, c.Sender); err != nil {
		return nil, err
	}
	mark := newFollowMark(source, f)
	if err := p.claimFollowUp(ctx, c.ID, mark, false); err != nil {
		return nil, err
	}
	if err := p.anyFollowed(ctx, source, filter); err != nil {
		return nil, err
	}
	if err := p.claimFollowUp(ctx, c.ID, mark, true); err != nil {
		return nil, err
	}
	if _, err := p.Register(ctx, &c); errors.Is(err, campaign.ErrConflict) {
		// Another follow-up of source with other times or template, or a
		// campaign registered under the id while this one was being made.
		return nil, sentence.Of(campaign.ErrConflict, "campaign %s exists and is not this follow-up (another campaign, or a follow-up of %s with another template, send_at or expires_at): choose another id",
			c.ID, source)
	} else if err != nil {
		return nil, err
	}
	// Made again (a failure part-way), the follow-up's recipients that
	// were enqueued are duplicates: the enqueue adds what is missing.
	rctx, stop := context.WithCancel(ctx) // ends the ledger's reader should the enqueue stop early
	defer stop()
	sum, err := p.Enqueue(ctx, &c, p.followed(rctx, source, filter), Options{})
	if err != nil {
		return sum, err
	}
	_, err = p.Seal(ctx, c.ID)
	return sum, err
}

// followMark is what a follow-up keeps of how it was made (the follow_up
// field of its campaign's hash): its source and the outcomes and codes it
// took, so that the same request made again after a failure part-way is
// told from another follow-up under the same id.
type followMark struct {
	Source   string   `json:"source"`
	Statuses []string `json:"statuses"`
	Codes    []int    `json:"codes,omitempty"`
}

func newFollowMark(source string, f FollowUp) followMark {
	m := followMark{Source: source, Statuses: slices.Clone(f.Statuses), Codes: slices.Clone(f.Codes)}
	if f.IncludeUnknown {
		m.Statuses = append(m.Statuses, task.StatusUnknown)
	}
	slices.Sort(m.Statuses)
	slices.Sort(m.Codes)
	m.Statuses, m.Codes = slices.Compact(m.Statuses), slices.Compact(m.Codes)
	return m
}

func (m followMark) String() string {
	s := fmt.Sprintf("%s (statuses %s", m.Source, strings.Join(m.Statuses, ","))
	if len(m.Codes) > 0 {
		// The first codes say which follow-up it is; thousands of them
		// would make an error of a megabyte.
		shown := m.Codes[:min(len(m.Codes), maxListed)]
		s += ", codes " + strings.Trim(strings.Join(strings.Fields(fmt.Sprint(shown)), ","), "[]")
		if n := len(m.Codes) - len(shown); n > 0 {
			s += fmt.Sprintf(" and %d more", n)
		}
	}
	return s + ")"
}

// followClaimTTL bounds a claim whose registration never came (the
// registration sets the campaign's own expiry).
const followClaimTTL = time.Hour

// followClaimScript checks, and with ARGV[3] = 1 claims, a follow-up's id:
// 1 when the campaign's hash holds the same mark (the same follow-up, made
// again), 0 when the id is free (claimed: the mark is written, for an hour
// unless the registration that follows sets the campaign's expiry), -1 and
// the mark when it holds another follow-up's, -2 when it is a campaign that
// is no follow-up.
//
// KEYS: 1 campaign hash. ARGV: 1 mark, 2 the claim's TTL (s), 3 claim.
var followClaimScript = redis.NewScript(`
local mark = redis.call('HGET', KEYS[1], 'follow_up')
if mark then
  if mark == ARGV[1] then return {1} end
  return {-1, mark}
end
if redis.call('HEXISTS', KEYS[1], 'def') == 1 then return {-2} end
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], 'follow_up', ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return {0}
`)

// claimFollowUp is campaign.ErrConflict when id holds a campaign that is
// not this follow-up; with claim, it marks a free id as this follow-up's
// before the campaign is registered, in one step with the check.
func (p *Producer) claimFollowUp(ctx context.Context, id string, m followMark, claim bool) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("producer: encode the follow-up: %w", err)
	}
	v, err := followClaimScript.Run(ctx, p.rdb, []string{p.keys.Campaign(id)}, b, int64(followClaimTTL.Seconds()), claim).Slice()
	if err != nil {
		return fmt.Errorf("producer: follow-up %s: %w", id, err)
	}
	switch n, _ := v[0].(int64); n {
	case -1:
		var other followMark
		if s, _ := v[1].(string); json.Unmarshal([]byte(s), &other) != nil {
			return sentence.Of(campaign.ErrConflict, "campaign %s exists: it is another follow-up: choose another id", id)
		}
		return sentence.Of(campaign.ErrConflict, "campaign %s exists: it is a follow-up of %s: choose another id", id, other)
	case -2:
		return sentence.Of(campaign.ErrConflict, "campaign %s exists: a follow-up makes a new campaign: choose another id", id)
	}
	return nil
}

func unsealedHint(st *campaign.Status) string {
	if !st.Sealed && st.Counts.Final() >= st.Counts.Enqueued {
		return "; it is open: seal it"
	}
	return ""
}

// Validate checks what a follow-up takes (its outcomes and codes), as
// FollowUp does before it reads anything: a form can check it before it
// asks for a confirmation.
func (f FollowUp) Validate() error {
	_, err := followFilter(f)
	return err
}

// maxListed bounds the errors a follow-up's statuses and codes give, and
// the codes a 409 names of another follow-up, so that a list of thousands
// of values is not echoed back whole.
const maxListed = 10

// followFilter checks the statuses and codes of a follow-up, naming each
// bad value by its index.
func followFilter(f FollowUp) (results.Filter, error) {
	var errs, listErrs []error
	known := slices.DeleteFunc(slices.Clone(Followable), func(s string) bool { return s == task.StatusUnknown })
	statuses := slices.Clone(f.Statuses)
	if len(statuses) == 0 && !f.IncludeUnknown {
		errs = append(errs, fmt.Errorf("statuses: name the outcomes to follow up (%s; unknown with include_unknown)", strings.Join(known, ", ")))
	}
	for i, s := range f.Statuses {
		switch {
		case s == task.StatusUnknown && !f.IncludeUnknown:
			listErrs = append(listErrs, fmt.Errorf("statuses[%d]: unknown recipients may have received the first message: set include_unknown to follow them up", i))
		case s == task.StatusSuppressed:
			listErrs = append(listErrs, fmt.Errorf("statuses[%d]: %q cannot be followed up: the recipient is on a suppression list", i, s))
		case slices.Contains(results.Statuses(), s) && !slices.Contains(Followable, s):
			listErrs = append(listErrs, fmt.Errorf("statuses[%d]: %q cannot be followed up: its message was accepted", i, s))
		case !slices.Contains(Followable, s):
			listErrs = append(listErrs, fmt.Errorf("statuses[%d]: %q is not an outcome (want %s, or unknown with include_unknown)", i, s, strings.Join(known, ", ")))
		}
	}
	if f.IncludeUnknown && !slices.Contains(statuses, task.StatusUnknown) {
		statuses = append(statuses, task.StatusUnknown)
	}
	filter, err := results.ParseFilter(statuses, nil)
	if err != nil && len(errs)+len(listErrs) == 0 {
		errs = append(errs, err)
	}
	for i, c := range f.Codes {
		if c <= 0 {
			listErrs = append(listErrs, fmt.Errorf("codes[%d]: %d is not an error code (a positive number such as 131026)", i, c))
		}
		filter.Codes[c] = true
	}
	if n := len(listErrs) - maxListed; n > 0 {
		listErrs = append(listErrs[:maxListed], fmt.Errorf("and %d more bad values in statuses and codes", n))
	}
	errs = append(errs, listErrs...)
	if f.ID == "" {
		errs = append(errs, errors.New("id: the follow-up campaign's id is required"))
	}
	if len(errs) > 0 {
		return filter, &campaign.ValidationError{Errs: errs, What: "follow-up"}
	}
	return filter, nil
}

// taken says whether a follow-up takes a recipient the filter selected:
// never one whose message was delivered, or accepted and not reported
// failed.
func taken(it results.Item) bool {
	if it.Delivered() {
		return false
	}
	return it.Outcome.Status != task.StatusSent || it.Delivery.Undelivered()
}

var errFound = errors.New("producer: found")

// anyFollowed is ErrNoMatch when the follow-up would take nobody.
func (p *Producer) anyFollowed(ctx context.Context, source string, filter results.Filter) error {
	err := results.Each(ctx, p.store, source, filter, true, func(items []results.Item) error {
		for _, it := range items {
			if taken(it) {
				return errFound
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errFound):
		return nil
	case err != nil:
		return err
	}
	return sentence.Of(ErrNoMatch, "the follow-up matches no recipient of %s: nothing was registered", source)
}

// followSource yields the recipients a follow-up takes, read from the
// source's ledger as the enqueue goes: a batch at a time.
type followSource struct {
	rows chan Recipient
	err  chan error
	n    int
}

func (p *Producer) followed(ctx context.Context, source string, filter results.Filter) *followSource {
	s := &followSource{rows: make(chan Recipient, 500), err: make(chan error, 1)}
	go func() {
		defer close(s.rows)
		s.err <- results.Each(ctx, p.store, source, filter, true, func(items []results.Item) error {
			for _, it := range items {
				if !taken(it) {
					continue
				}
				select {
				case s.rows <- Recipient{To: it.To, Components: it.Outcome.Components, Metadata: it.Outcome.Metadata}:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	}()
	return s
}

// Next implements Source.
func (s *followSource) Next() (Recipient, int, error) {
	r, ok := <-s.rows
	if !ok {
		if err := <-s.err; err != nil {
			s.err <- err
			return Recipient{}, 0, err
		}
		s.err <- nil
		return Recipient{}, 0, io.EOF
	}
	s.n++
	return r, s.n, nil
}
