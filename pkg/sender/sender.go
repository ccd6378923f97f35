package sender

import (
	"fmt"
	"log/slog"
	"math"

	"github.com/mmlite/mmlite/internal/ident"
	"github.com/mmlite/mmlite/internal/safeurl"

	"github.com/mmlite/mmlite/pkg/mmapi"
)

// Defaults used when a field is left out.
const (
	DefaultID          = "default"
	Default360BaseURL  = "https://waba-v2.360dialog.io"
	DefaultMetaBaseURL = "https://graph.facebook.com/v23.0"
	DefaultRate        = 80
	// MaxRate is far above Meta's 1,000/s so that benchmarks can run unthrottled.
	MaxRate = 100000
)

// Sender is one business number that sends.
type Sender struct {
	ID            string         `yaml:"id" json:"id"`
	Provider      mmapi.Provider `yaml:"provider" json:"provider"`
	BaseURL       string         `yaml:"base_url" json:"base_url"`
	APIKeyEnv     string         `yaml:"api_key_env" json:"-"`
	APIKeyFile    string         `yaml:"api_key_file" json:"-"`
	Rate          float64        `yaml:"rate" json:"rate"`   // messages per second, fleet-wide
	Burst         int            `yaml:"burst" json:"burst"` // messages allowed above the rate at once
	PhoneNumberID string         `yaml:"phone_number_id" json:"phone_number_id,omitempty"`
	WABAID        string         `yaml:"waba_id" json:"waba_id,omitempty"`
	// RequireOnboarding holds the sender's campaigns, paused, until the WABA's
	// MM_LITE_TERMS_SIGNED webhook has been received.
	RequireOnboarding bool `yaml:"require_onboarding" json:"require_onboarding,omitempty"`
	// PortfolioID is the business portfolio whose messaging limit the
	// sender shares with the other senders of the same portfolio.
	PortfolioID string `yaml:"portfolio_id" json:"portfolio_id,omitempty"`
	// MessagingLimit is the portfolio's (or, without one, the sender's)
	// limit of unique recipients in a rolling 24 hours; 0 is unlimited.
	MessagingLimit MessagingLimit `yaml:"messaging_limit" json:"messaging_limit,omitempty"`
	// OnFallback is FallbackCount (default) or FallbackPause.
	OnFallback string `yaml:"on_fallback" json:"on_fallback,omitempty"`

	key string
}

// Key returns the API key or token. Never log it.
func (s *Sender) Key() string { return s.key }

// SetKey sets the key; for tests and the demo.
func (s *Sender) SetKey(k string) { s.key = k }

// Endpoint returns where and as whom this sender sends.
func (s *Sender) Endpoint() mmapi.Endpoint {
	return mmapi.Endpoint{Provider: s.Provider, BaseURL: s.BaseURL, Key: s.key, PhoneNumberID: s.PhoneNumberID}
}

// LogValue keeps the key and where it comes from out of logs.
func (s *Sender) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", s.ID), slog.String("provider", string(s.Provider)),
		slog.String("base_url", safeurl.Redact(s.BaseURL)), slog.Float64("rate", s.Rate), slog.Int("burst", s.Burst))
}

// setDefaults fills provider, base URL and burst.
func (s *Sender) setDefaults(baseURL string) {
	if s.Provider == "" {
		s.Provider = mmapi.Provider360
	}
	if s.BaseURL == "" {
		s.BaseURL = baseURL
		if s.Provider == mmapi.ProviderMeta && baseURL == Default360BaseURL {
			s.BaseURL = DefaultMetaBaseURL
		}
	}
	if s.Burst == 0 && s.Rate > 0 {
		s.Burst = DefaultBurst(s.Rate)
	}
}

// DefaultBurst is a tenth of a second's worth of messages, at least one.
func DefaultBurst(rate float64) int {
	return int(math.Max(1, math.Ceil(rate/10)))
}

// validate checks one sender; at names it in errors ("senders[1] (eu)").
func (s *Sender) validate(at string) error {
	switch {
	case !ident.Valid(s.ID):
		return fmt.Errorf("%s: id must be %s, got %s", at, ident.Rule, ident.Quote(s.ID))
	case s.Provider != mmapi.Provider360 && s.Provider != mmapi.ProviderMeta:
		return fmt.Errorf("%s: provider must be %q or %q, got %q", at, mmapi.Provider360, mmapi.ProviderMeta, s.Provider)
	case s.Rate <= 0 || s.Rate > MaxRate || math.IsNaN(s.Rate):
		return fmt.Errorf("%s: rate must be > 0 and <= %d messages per second, got %v", at, MaxRate, s.Rate)
	case s.Burst < 1:
		return fmt.Errorf("%s: burst must be >= 1, got %d", at, s.Burst)
	case s.Provider == mmapi.ProviderMeta && s.PhoneNumberID == "":
		return fmt.Errorf("%s: phone_number_id is required for provider meta", at)
	}
	if err := s.validateGuards(at); err != nil {
		return err
	}
	return s.validateBase(at)
}
