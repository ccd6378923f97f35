package sender

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// MessagingLimit is the number of unique recipients a business portfolio
// may reach outside a service window in a rolling 24 hours: one of Meta's
// tiers, 0 for unlimited (the default).
type MessagingLimit int

// The tiers of MessagingLimit.
var messagingTiers = []MessagingLimit{250, 2000, 10000, 100000}

// ParseMessagingLimit reads a tier: 250, 2000, 10000, 100000, or
// "unlimited" (also 0 or "").
func ParseMessagingLimit(s string) (MessagingLimit, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" || s == "unlimited" || s == "0" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err == nil {
		for _, t := range messagingTiers {
			if MessagingLimit(n) == t {
				return t, nil
			}
		}
	}
	return 0, errLimit(s)
}

// errLimit refuses a messaging_limit that is not a tier; got says what it
// was.
func errLimit(got string) error {
	return fmt.Errorf("messaging_limit must be one of 250, 2000, 10000, 100000 or unlimited, got %s", got)
}

// UnmarshalYAML refuses anything but a tier (a mapping or a list, whose
// Value is empty, would read as unlimited).
func (l *MessagingLimit) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		kind := "a list"
		if n.Kind == yaml.MappingNode {
			kind = "a mapping"
		}
		return fmt.Errorf("line %d: %w", n.Line, errLimit(kind))
	}
	v, err := ParseMessagingLimit(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*l = v
	return nil
}

// String is the tier, or "unlimited".
func (l MessagingLimit) String() string {
	if l <= 0 {
		return "unlimited"
	}
	return strconv.Itoa(int(l))
}

// What a sender does when Meta prices a message as a Cloud API marketing
// message (pricing.category marketing) instead of marketing_lite.
const (
	FallbackCount = "count" // count it (mmlite_fallback_total): the default
	FallbackPause = "pause" // pause the campaign, reason fallback
)

// Scope is where a sender's suppression list and cooldowns are kept: its
// WhatsApp Business Account, or the sender itself when it has none.
func (s *Sender) Scope() string { return scope(s.WABAID, s.ID) }

// LimitScope is whose messaging limit the sender's sends count against:
// its business portfolio, or the sender itself when it has none.
func (s *Sender) LimitScope() string { return scope(s.PortfolioID, s.ID) }

// Scope is Sender.Scope for a published sender.
func (p Published) Scope() string { return scope(p.WABAID, p.ID) }

// LimitScope is Sender.LimitScope for a published sender.
func (p Published) LimitScope() string { return scope(p.PortfolioID, p.ID) }

func scope(group, id string) string {
	if group != "" {
		return group
	}
	return id
}

// validateGuards checks the protection fields; at names the sender.
func (s *Sender) validateGuards(at string) error {
	switch s.OnFallback {
	case "", FallbackCount, FallbackPause:
	default:
		return fmt.Errorf("%s: on_fallback must be %q or %q, got %q", at, FallbackCount, FallbackPause, s.OnFallback)
	}
	return nil
}
