package guard

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/mmapi"
)

// Config is what the protections need to know; zero fields get the defaults.
type Config struct {
	// SuppressCodes are the error codes that put a recipient on the
	// suppression list (answer or failed status); default 131050.
	SuppressCodes []int
	// Cooldown is how long a 131049 holds the recipient; default 24h.
	Cooldown time.Duration
	// LimitWindow is the messaging limit's rolling window; default 24h.
	LimitWindow time.Duration
}

// Defaults.
const (
	DefaultCooldown    = 24 * time.Hour
	DefaultLimitWindow = 24 * time.Hour
	CodeStopped        = 131050 // the user stopped marketing messages
	CodeUserCap        = 131049 // per-user marketing cap
	CodeTemplatePaused = store.CodeTemplatePaused
	CodeTemplateOff    = store.CodeTemplateOff
)

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	if len(c.SuppressCodes) == 0 {
		c.SuppressCodes = []int{CodeStopped}
	}
	if c.Cooldown == 0 {
		c.Cooldown = DefaultCooldown
	}
	if c.LimitWindow == 0 {
		c.LimitWindow = DefaultLimitWindow
	}
	return c
}

// Validate checks the config, naming the setting.
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.Cooldown < 0:
		return fmt.Errorf("MMLITE_COOLDOWN must be > 0, got %s", c.Cooldown)
	case c.LimitWindow < 0:
		return fmt.Errorf("MMLITE_LIMIT_WINDOW must be > 0, got %s", c.LimitWindow)
	}
	for _, code := range c.SuppressCodes {
		// A suppression ends the recipient in every later campaign, and
		// takes the place of the code's own protection (see the worker's
		// protect): only a code that ends the recipient anyway may.
		if class, ok := mmapi.ClassOfCode(code); ok && class != mmapi.ClassPermanent {
			return fmt.Errorf("MMLITE_SUPPRESS_CODES: code %d is %s, not permanent for the recipient (%s): it must not suppress anyone",
				code, class, class.Meaning())
		}
	}
	return nil
}

// Warnings are what the configuration takes but an operator should hear
// of at start: a suppression list that leaves out 131050 (the default,
// which MMLITE_SUPPRESS_CODES replaces) sends again, in every later
// campaign, to recipients who stopped marketing messages.
func (c Config) Warnings() []string {
	if c.Suppresses(CodeStopped) {
		return nil
	}
	return []string{fmt.Sprintf("MMLITE_SUPPRESS_CODES leaves out %d (the recipient stopped marketing messages): "+
		"such recipients are not put on the suppression list, and later campaigns send to them again; add %d to it", CodeStopped, CodeStopped)}
}

// Suppresses reports whether an error code puts the recipient on the list.
func (c Config) Suppresses(code int) bool {
	for _, s := range c.WithDefaults().SuppressCodes {
		if s == code {
			return true
		}
	}
	return false
}

// ParseCodes reads a comma-separated list of error codes (MMLITE_SUPPRESS_CODES).
func ParseCodes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("MMLITE_SUPPRESS_CODES: want comma-separated error codes, got %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}
