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
// checkText: check that its text is UTF-8 too (checkUTF8), which the
// package's readers have done for the rows they read.
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
	}
	if checkText {
		return r.checkUTF8()
	}
	return nil
}

// checkUTF8 refuses a recipient built in Go whose text is not UTF-8: in
// its metadata, encoding/json would turn such bytes into U+FFFD in its
// result; in a component's JSON (kept as built, see mmapi.RawComponent),
// they would go to the API. The package's readers refuse such a row as they
// read it, naming its line and column or field, and are not checked again.
// Its number is checked by phone.Normalize, its metadata keys by metaKey.
func (r *Recipient) checkUTF8() error {
	for k, v := range r.Metadata {
		if !utf8.ValidString(v) {
			return fmt.Errorf("metadata.%s: not valid UTF-8", k)
		}
	}
	for i, c := range r.Components {
		b, err := c.MarshalJSON() // its JSON as built: no copy
		if err != nil || utf8.Valid(b) {
			continue
		}
		var se *strictjson.Error
		if errors.As(strictjson.CheckUTF8(b), &se) && se.Path != "" {
			return fmt.Errorf("components[%d].%s: not valid UTF-8", i, se.Path)
		}
		return fmt.Errorf("components[%d]: not valid UTF-8", i)
	}
	return nil
}
