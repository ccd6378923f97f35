package sender

import (
	"fmt"
	"strings"
)

// metaIDFields are the fields of a sender that hold Meta's ids.
var metaIDFields = map[string]bool{"phone_number_id": true, "waba_id": true, "portfolio_id": true}

// CheckMetaID is nil when id is what Meta's ids are (a phone_number_id, a
// waba_id, a portfolio_id): digits only. Meta's webhooks name the sender
// by them, so one mistyped ("1234 5678", a letter O for a zero), or a
// phone number where the number's id goes, would match none of them.
func CheckMetaID(id string) error {
	if id == "" || strings.Trim(id, "0123456789") != "" {
		return fmt.Errorf("%q is not a Meta id: digits only", id)
	}
	return nil
}
