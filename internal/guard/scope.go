package guard

import (
	"context"
	"errors"
	"fmt"

	"github.com/mmlite/mmlite/internal/registry"
)

// ScopeOf is the suppression list an operator names: a sender's (its
// WABA, or its id without one) when senderID is set, else scope as given;
// known says whether a published sender has it. A sender no worker
// published is ErrUnknownScope. The API (?sender=, ?scope=) and the CLI
// (--sender, --scope) both read it so.
func ScopeOf(ctx context.Context, reg *registry.Registry, senderID, scope string) (string, bool, error) {
	if senderID != "" {
		p, err := reg.Published(ctx, senderID)
		if errors.Is(err, registry.ErrNotPublished) {
			return "", false, fmt.Errorf("%w: %w", ErrUnknownScope, err)
		}
		return p.Scope(), err == nil, err
	}
	known, err := reg.HasScope(ctx, scope)
	return scope, known, err
}
