package guard

import (
	"context"
	"errors"

	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/sentence"
)

// ErrScopeAndSender is a suppression list named both by its scope and by
// a sender.
var ErrScopeAndSender = errors.New("guard: name the suppression list by its scope or by its sender, not both")

// ScopeOf is the suppression list an operator names: a sender's (its
// WABA, or its id without one) when senderID is set, else scope as given;
// known says whether a published sender has it. A sender no worker
// published is ErrUnknownScope. The API (?sender=, ?scope=) and the CLI
// (--sender, --scope) both read it so. Both given is ErrScopeAndSender:
// which of them was meant cannot be told.
func ScopeOf(ctx context.Context, reg *registry.Registry, senderID, scope string) (string, bool, error) {
	if senderID != "" && scope != "" {
		return "", false, sentence.Of(ErrScopeAndSender, "name the suppression list by its scope or by its sender, not both (scope %s, sender %s)", scope, senderID)
	}
	if senderID != "" {
		p, err := reg.Published(ctx, senderID)
		if errors.Is(err, registry.ErrNotPublished) {
			return "", false, sentence.Of(ErrUnknownScope, "%w", err)
		}
		return p.Scope(), err == nil, err
	}
	known, err := reg.HasScope(ctx, scope)
	return scope, known, err
}
