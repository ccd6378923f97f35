package producer

import (
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/pkg/mmapi"
)

// Recipient is one row: a number, its template parameters and opaque
// metadata echoed in its result.
type Recipient struct {
	To         string            `json:"to"`
	Components []mmapi.Component `json:"components,omitempty"`
	Metadata   map[string]string `json:"metadata,omitempty"`
}

// Limits on a recipient's metadata.
const (
	MaxMetadataKeys  = 20
	MaxMetadataValue = 1024
)

var metaKey = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// normalize checks a recipient and puts its number in the API's form.
func (r *Recipient) normalize() error {
	to, err := phone.Normalize(r.To)
	if err != nil {
		return fmt.Errorf("to: %w", err)
	}
	r.To = to
	for i, c := range r.Components {
		switch c.Type {
		case "header", "body", "button", "carousel", "limited_time_offer":
		default:
			return fmt.Errorf("components[%d].type: %q is not a template component (header, body, button, carousel, limited_time_offer)", i, c.Type)
		}
	}
	if len(r.Metadata) > MaxMetadataKeys {
		return fmt.Errorf("metadata: %d keys, at most %d", len(r.Metadata), MaxMetadataKeys)
	}
	for k, v := range r.Metadata {
		if !metaKey.MatchString(k) {
			return fmt.Errorf("metadata: key %q must be 1-64 of A-Za-z0-9_.-", k)
		}
		if len(v) > MaxMetadataValue {
			return fmt.Errorf("metadata.%s: %d bytes, at most %d", k, len(v), MaxMetadataValue)
		}
		if !utf8.ValidString(v) { // the result's JSON would carry U+FFFD
			return fmt.Errorf("metadata.%s: not valid UTF-8", k)
		}
	}
	return nil
}
