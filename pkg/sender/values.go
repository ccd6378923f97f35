package sender

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// checkValues refuses, by its line, a field of the sender's mapping n
// whose value yaml reads without a word but which would leave the sender
// unprotected or unknown to Meta's webhooks: one without a value (see
// emptyValue), and an id that is not a Meta id (see CheckMetaID). A value
// of the wrong kind (a list, a mapping) is refused by its decoding.
func checkValues(n *yaml.Node) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			continue
		}
		err := emptyValue(k.Value, v)
		if err == nil && metaIDFields[k.Value] {
			// v.Value is the text as written: an id written unquoted as a
			// number is its digits, whatever number yaml takes it for.
			if err = CheckMetaID(v.Value); err != nil {
				err = fmt.Errorf("%s: %w", k.Value, err)
			}
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", v.Line, err)
		}
	}
	return nil
}

// emptyValue refuses a field written without a value (a template's unset
// variable: "messaging_limit: ${LIMIT}"), which yaml reads as none (a null
// does not even reach UnmarshalYAML), when none turns a protection off or
// unties the sender from Meta's webhooks: an unlimited messaging_limit,
// on_fallback count, no onboarding; without waba_id no template, account
// or quality webhook applies, and without phone_number_id no status is
// the sender's. It is nil for a value, and for another field.
func emptyValue(key string, v *yaml.Node) error {
	if v.ShortTag() != "!!null" && strings.TrimSpace(v.Value) != "" {
		return nil
	}
	switch key {
	case "messaging_limit":
		return errLimit("nothing")
	case "on_fallback":
		return fmt.Errorf("on_fallback has no value: write %q or %q, or leave it out for %q", FallbackCount, FallbackPause, FallbackCount)
	case "require_onboarding":
		return fmt.Errorf("require_onboarding has no value: write true or false, or leave it out for false")
	case "waba_id", "portfolio_id", "phone_number_id":
		return fmt.Errorf("%s has no value: write it, or leave it out", key)
	}
	return nil
}
