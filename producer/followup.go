package producer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/mmlite/mmlite/internal/results"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
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
// existing id is campaign.ErrConflict; of a campaign still sending,
// campaign.ErrState; one that matches nobody, ErrNoMatch, and registers
// nothing.
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
		return nil, fmt.Errorf("%w: campaign %s is still sending (%s, %d of %d recipients final%s): follow it up once it is over",
			campaign.ErrState, source, st.State, st.Counts.Final(), st.Counts.Enqueued, unsealedHint(st))
	}
	c := *src
	c.ID, c.SendAt, c.ExpiresAt = f.ID, f.SendAt, f.ExpiresAt
	if f.Template != nil {
		c.Template = *f.Template
	}
	c.Normalize()
	if err := c.Validate(p.now()); err != nil {
		return nil, err
	}
	if _, err := p.store.Campaigns.Get(ctx, c.ID); err == nil {
		return nil, fmt.Errorf("%w: %s exists: a follow-up makes a new campaign", campaign.ErrConflict, c.ID)
	} else if !errors.Is(err, campaign.ErrNotFound) {
		return nil, err
	}
	if err := p.anyFollowed(ctx, source, filter); err != nil {
		return nil, err
	}
	created, err := p.Register(ctx, &c)
	if err != nil {
		return nil, err
	}
	if !created {
		return nil, fmt.Errorf("%w: %s exists: a follow-up makes a new campaign", campaign.ErrConflict, c.ID)
	}
	rctx, stop := context.WithCancel(ctx) // ends the ledger's reader should the enqueue stop early
	defer stop()
	sum, err := p.Enqueue(ctx, &c, p.followed(rctx, source, filter), Options{})
	if err != nil {
		return sum, err
	}
	_, err = p.Seal(ctx, c.ID)
	return sum, err
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

// followFilter checks the statuses and codes of a follow-up.
func followFilter(f FollowUp) (results.Filter, error) {
	var errs []error
	statuses := slices.Clone(f.Statuses)
	if len(statuses) == 0 && !f.IncludeUnknown {
		errs = append(errs, fmt.Errorf("statuses: name the outcomes to follow up (%v)", Followable))
	}
	for _, s := range f.Statuses {
		switch {
		case s == task.StatusUnknown && !f.IncludeUnknown:
			errs = append(errs, errors.New("statuses: unknown recipients may have received the first message: set include_unknown to follow them up"))
		case !slices.Contains(Followable, s):
			errs = append(errs, fmt.Errorf("statuses: %q cannot be followed up (want %v): its message was accepted", s, Followable))
		}
	}
	if f.IncludeUnknown && !slices.Contains(statuses, task.StatusUnknown) {
		statuses = append(statuses, task.StatusUnknown)
	}
	filter, err := results.ParseFilter(statuses, nil)
	if err != nil {
		errs = append(errs, err)
	}
	for _, c := range f.Codes {
		if c <= 0 {
			errs = append(errs, fmt.Errorf("codes: %d is not an error code (a positive number such as 131026)", c))
		}
		filter.Codes[c] = true
	}
	if f.ID == "" {
		errs = append(errs, errors.New("id: the follow-up campaign's id is required"))
	}
	if len(errs) > 0 {
		return filter, &campaign.ValidationError{Errs: errs}
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
	return fmt.Errorf("%w of %s: nothing was registered", ErrNoMatch, source)
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
