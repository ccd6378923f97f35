package producer

import (
	"errors"
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/internal/strictjson"
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
// checkText: check that its text is UTF-8 too, which the package's readers
// have done for the rows they read, naming the line and the column or
// field. Text that is not UTF-8 in metadata would become U+FFFD in the
// result's JSON (encoding/json); in a component's JSON, kept as built (see
// mmapi.RawComponent), it would go to the API. The number is checked by
// phone.Normalize, the metadata keys by metaKey, the components (one of
// each, a button's index, no blank parameter) by mmapi.CheckComponents.
func (r *Recipient) normalize(checkText bool) error {
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
		if checkText {
			if err := componentUTF8(i, c); err != nil {
				return err
			}
		}
	}
	if err := mmapi.CheckComponents("components", r.Components); err != nil {
		return err
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
		if checkText && !utf8.ValidString(v) {
			return fmt.Errorf("metadata.%s: not valid UTF-8", k)
		}
	}
	return nil
}

// componentUTF8 names the string of component i that is not UTF-8, if any.
func componentUTF8(i int, c mmapi.Component) error {
	b, err := c.MarshalJSON() // its JSON as built: no copy
	if err != nil || utf8.Valid(b) {
		return nil
	}
	var se *strictjson.Error
	if errors.As(strictjson.CheckUTF8(b), &se) && se.Path != "" {
		return fmt.Errorf("components[%d].%s: not valid UTF-8", i, se.Path)
	}
	return fmt.Errorf("components[%d]: not valid UTF-8", i)
}
