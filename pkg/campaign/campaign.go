package campaign

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/ident"

	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/mmlite/mmlite/pkg/mmapi"
)

// TTL bounds of message_send_ttl_seconds for marketing templates.
const (
	MinSendTTL = 43200   // 12 hours
	MaxSendTTL = 2592000 // 30 days
)

var (
	templatePattern = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	languagePattern = regexp.MustCompile(`^[a-z]{2,3}(_[A-Za-z]{2,4})?$`)
	componentTypes  = map[string]bool{"header": true, "body": true, "button": true, "carousel": true, "limited_time_offer": true}
)

// Campaign is what upstream systems hand in: one template to many recipients.
type Campaign struct {
	ID                     string         `json:"id"`
	Sender                 string         `json:"sender"`
	Template               mmapi.Template `json:"template"`
	MessageActivitySharing *bool          `json:"message_activity_sharing,omitempty"`
	MessageSendTTLSeconds  int            `json:"message_send_ttl_seconds,omitempty"`
	ProductPolicy          string         `json:"product_policy,omitempty"`
	SendAt                 *time.Time     `json:"send_at,omitempty"`
	ExpiresAt              *time.Time     `json:"expires_at,omitempty"`
	// CallbackURL receives the campaign's callbacks (its results, status
	// and campaign events) instead of MMLITE_RESULTS_URL; callbacks must be
	// on (MMLITE_RESULTS_URL set).
	CallbackURL string `json:"callback_url,omitempty"`
}

// Normalize fills the defaults: sender "default", policy "deterministic".
func (c *Campaign) Normalize() {
	if c.Sender == "" {
		c.Sender = "default"
	}
	if c.Template.Language.Policy == "" {
		c.Template.Language.Policy = mmapi.DefaultPolicy
	}
	if c.SendAt != nil {
		t := c.SendAt.UTC()
		c.SendAt = &t
	}
	if c.ExpiresAt != nil {
		t := c.ExpiresAt.UTC()
		c.ExpiresAt = &t
	}
}

// Validate checks every field and returns all problems at once, each naming
// its field. A campaign that has already expired, or expires before it
// starts, is refused as a whole.
func (c *Campaign) Validate(now time.Time) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !ident.Valid(c.ID) {
		bad("id must be %s, got %s", ident.Rule, ident.Quote(c.ID))
	}
	if c.Sender != "" && !ident.Valid(c.Sender) {
		bad("sender must be %s, got %s", ident.Rule, ident.Quote(c.Sender))
	}
	switch {
	case c.Template.Name == "":
		bad("template.name is required")
	case !templatePattern.MatchString(c.Template.Name):
		bad("template.name must be lowercase letters, digits and underscores, got %q", c.Template.Name)
	}
	switch {
	case c.Template.Language.Code == "":
		bad("template.language.code is required")
	case !languagePattern.MatchString(c.Template.Language.Code):
		bad("template.language.code must look like en, en_US or pt_BR, got %q", c.Template.Language.Code)
	}
	if p := c.Template.Language.Policy; p != "" && p != mmapi.DefaultPolicy {
		bad("template.language.policy must be %q, got %q", mmapi.DefaultPolicy, p)
	}
	for i, comp := range c.Template.Components {
		if !componentTypes[comp.Type] {
			bad("template.components[%d].type must be header, body, button, carousel or limited_time_offer, got %q", i, comp.Type)
		}
	}
	if err := mmapi.CheckComponents("template.components", c.Template.Components); err != nil {
		errs = append(errs, err)
	}
	if t := c.MessageSendTTLSeconds; t != 0 && (t < MinSendTTL || t > MaxSendTTL) {
		bad("message_send_ttl_seconds must be between %d (12 h) and %d (30 days), got %d", MinSendTTL, MaxSendTTL, t)
	}
	if p := c.ProductPolicy; p != "" && p != mmapi.PolicyCloudAPIFallback && p != mmapi.PolicyStrict {
		bad("product_policy must be %q or %q, got %q", mmapi.PolicyCloudAPIFallback, mmapi.PolicyStrict, p)
	}
	if c.ExpiresAt != nil {
		if !c.ExpiresAt.After(now) {
			bad("expires_at %s has already passed", c.ExpiresAt.Format(time.RFC3339))
		}
		if c.SendAt != nil && !c.SendAt.Before(*c.ExpiresAt) {
			bad("send_at %s must come before expires_at %s", c.SendAt.Format(time.RFC3339), c.ExpiresAt.Format(time.RFC3339))
		}
	}
	if c.CallbackURL != "" {
		if err := safeurl.Check(c.CallbackURL); err != nil {
			bad("callback_url: %v", err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{Errs: errs}
}

// ValidationError lists every problem of a campaign definition, or of
// another request that names fields (What: a follow-up).
type ValidationError struct {
	Errs []error
	What string // what has the fields; "" is a campaign
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Errs))
	for i, err := range e.Errs {
		msgs[i] = err.Error()
	}
	what := e.What
	if what == "" {
		what = "campaign"
	}
	return what + ": " + strings.Join(msgs, "; ")
}

// Message builds the request body for one recipient of the campaign.
func (c *Campaign) Message(to string, components []mmapi.Component) *mmapi.Message {
	m := mmapi.NewMessage(to, c.Template, components)
	m.MessageActivitySharing = c.MessageActivitySharing
	m.MessageSendTTLSeconds = c.MessageSendTTLSeconds
	m.ProductPolicy = c.ProductPolicy
	return m
}

// ExpiresUnix is expires_at in unix seconds, 0 when there is none.
func (c *Campaign) ExpiresUnix() int64 {
	if c.ExpiresAt == nil {
		return 0
	}
	return c.ExpiresAt.Unix()
}
