package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/mmlite/mmlite/pkg/sender"
)

// ErrNotPublished is a sender no worker published.
var ErrNotPublished = errors.New("not published by any worker")

// Published is a sender as the workers published it; an error wrapping
// ErrNotPublished ("sender ID is not published by any worker") when none
// did.
func (r *Registry) Published(ctx context.Context, id string) (sender.Published, error) {
	all, err := r.All(ctx)
	if err != nil {
		return sender.Published{}, err
	}
	p, ok := all[id]
	if !ok {
		return p, fmt.Errorf("sender %s is %w", id, ErrNotPublished)
	}
	return p, nil
}

// HasScope says whether a published sender has the scope (its WABA, or its
// id without one: sender.Published.Scope).
func (r *Registry) HasScope(ctx context.Context, scope string) (bool, error) {
	all, err := r.All(ctx)
	if err != nil {
		return false, err
	}
	for _, p := range all {
		if p.Scope() == scope {
			return true, nil
		}
	}
	return false, nil
}

// ErrScopeNotPublished is a scope no published sender has: no sender reads
// its suppression list.
var ErrScopeNotPublished = errors.New("no published sender's WABA (or sender id)")

// ScopeNotPublished is the error of such a scope: "scope ID is no
// published sender's WABA (or sender id)", and, when ID is not a Meta id
// (sender.CheckMetaID), "..., and a WABA id is digits only".
func ScopeNotPublished(scope string) error {
	// A scope is a WABA id or a sender's id: one that is no Meta id may be
	// a sender's, so it is not refused for that alone, but a mistyped WABA
	// id (a space, a letter O, a phone number) is told so.
	if sender.CheckMetaID(scope) != nil {
		return fmt.Errorf("scope %s is %w, and a WABA id is digits only", scope, ErrScopeNotPublished)
	}
	return fmt.Errorf("scope %s is %w", scope, ErrScopeNotPublished)
}

// CheckScope is nil when a published sender has the scope (HasScope), and
// ScopeNotPublished when none has.
func (r *Registry) CheckScope(ctx context.Context, scope string) error {
	known, err := r.HasScope(ctx, scope)
	if err == nil && !known {
		err = ScopeNotPublished(scope)
	}
	return err
}

// Lookup is the sender of all (from All) with that id, or, when no worker
// published it, a sender with only its id: its scope is then its id.
func Lookup(all map[string]sender.Published, id string) sender.Published {
	if p, ok := all[id]; ok {
		return p
	}
	return sender.Published{ID: id}
}
