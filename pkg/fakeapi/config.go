package fakeapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"time"
)

// Actions an ErrorRule can take instead of answering.
const (
	// ActionReset reads the request fully, then closes the TCP connection
	// without answering.
	ActionReset = "reset"
	// ActionHang reads the request, then never answers: it waits until the
	// client gives up.
	ActionHang = "hang"
)

// Config says how the fake behaves. The zero value is a well-behaved fast
// API that accepts any non-empty key.
type Config struct {
	Keys               []string       `json:"keys,omitempty"`                 // accepted API keys (D360-API-KEY value, or Meta bearer token); empty = any non-empty key
	Templates          []string       `json:"templates,omitempty"`            // known template names; empty = any name; unknown -> 132001 HTTP 404
	Latency            Duration       `json:"latency,omitempty"`              // mean added latency per request
	LatencyJitter      Duration       `json:"latency_jitter,omitempty"`       // uniform +/- jitter around Latency
	Errors             []ErrorRule    `json:"errors,omitempty"`               // random failures
	RateLimit          float64        `json:"rate_limit,omitempty"`           // per-key requests/s, 0 = off
	RateBurst          int            `json:"rate_burst,omitempty"`           // default 1 when RateLimit > 0
	FailRecipients     map[string]int `json:"fail_recipients,omitempty"`      // "to" -> error code, always
	WebhookURL         string         `json:"webhook_url,omitempty"`          // where status webhooks are POSTed; empty = none
	WebhookSecret      string         `json:"webhook_secret,omitempty"`       // sent as X-Webhook-Secret header
	AppSecret          string         `json:"app_secret,omitempty"`           // when set, X-Hub-Signature-256: sha256=<hex hmac of raw body>
	WebhookDelay       Duration       `json:"webhook_delay,omitempty"`        // delay between accept->sent->delivered->read; default 200ms
	DeliveredShare     *float64       `json:"delivered_share,omitempty"`      // share of sent that are delivered, default 1
	ReadShare          *float64       `json:"read_share,omitempty"`           // share of delivered that are read, default 0.6
	PricingCategory    string         `json:"pricing_category,omitempty"`     // default "marketing_lite"; "marketing" simulates Cloud API fallback
	PhoneNumberID      string         `json:"phone_number_id,omitempty"`      // webhook metadata, default "106540352242922"
	DisplayPhoneNumber string         `json:"display_phone_number,omitempty"` // default "15550783881"
	WABAID             string         `json:"waba_id,omitempty"`              // webhook entry id, default "102290129340398"
	Seed               int64          `json:"seed,omitempty"`                 // randomness seed; 0 = time based
}

// ErrorRule answers a share of requests with an error.
type ErrorRule struct {
	Share      float64 `json:"share"`                 // 0..1 of requests
	Code       int     `json:"code,omitempty"`        // Meta error code (e.g. 130429, 131026, 131000, 132001)
	HTTPStatus int     `json:"http_status,omitempty"` // override; 0 = the status that code normally comes with; a rule with only HTTPStatus answers that status without a Meta code
	Action     string  `json:"action,omitempty"`      // "" normal answer; "reset" or "hang" (see ActionReset, ActionHang)
}

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("150ms"); reading also accepts a number of milliseconds.
type Duration time.Duration

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a Go duration string or a number of milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("invalid duration %q: want e.g. \"150ms\"", s)
		}
		*d = Duration(v)
		return nil
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil || math.Abs(ms) > float64(math.MaxInt64/int64(time.Millisecond)) {
		return fmt.Errorf("invalid duration %s: want a string like \"150ms\" or a number of milliseconds", b)
	}
	*d = Duration(ms * float64(time.Millisecond))
	return nil
}

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// Default values used when the corresponding Config field is empty.
const (
	defaultWebhookDelay    = 200 * time.Millisecond
	defaultDeliveredShare  = 1.0
	defaultReadShare       = 0.6
	defaultPricingCategory = "marketing_lite"
	defaultPhoneNumberID   = "106540352242922"
	defaultDisplayPhone    = "15550783881"
	defaultWABAID          = "102290129340398"
)

// validate checks c and names the offending field in its error.
func (c Config) validate() error {
	for i, k := range c.Keys {
		if k == "" {
			return fmt.Errorf("keys[%d] must not be empty", i)
		}
	}
	for i, t := range c.Templates {
		if t == "" {
			return fmt.Errorf("templates[%d] must not be empty", i)
		}
	}
	if c.Latency < 0 {
		return fmt.Errorf("latency must not be negative, got %s", c.Latency)
	}
	if c.LatencyJitter < 0 {
		return fmt.Errorf("latency_jitter must not be negative, got %s", c.LatencyJitter)
	}
	if err := validateRules(c.Errors, "errors"); err != nil {
		return err
	}
	if !(c.RateLimit >= 0) || math.IsInf(c.RateLimit, 0) {
		return fmt.Errorf("rate_limit must be a finite number >= 0, got %g", c.RateLimit)
	}
	if c.RateBurst < 0 {
		return fmt.Errorf("rate_burst must not be negative, got %d", c.RateBurst)
	}
	tos := make([]string, 0, len(c.FailRecipients))
	for to := range c.FailRecipients {
		tos = append(tos, to)
	}
	slices.Sort(tos)
	for _, to := range tos {
		if to == "" {
			return fmt.Errorf("fail_recipients has an empty recipient")
		}
		if code := c.FailRecipients[to]; code <= 0 {
			return fmt.Errorf("fail_recipients[%q] must be a positive Meta error code, got %d", to, code)
		}
	}
	if c.WebhookURL != "" {
		u, err := url.Parse(c.WebhookURL)
		if err != nil {
			return fmt.Errorf("webhook_url is not a valid URL: %v", err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("webhook_url must be an absolute http(s) URL, got %q", c.WebhookURL)
		}
	}
	if c.WebhookDelay < 0 {
		return fmt.Errorf("webhook_delay must not be negative, got %s", c.WebhookDelay)
	}
	if err := validateShare("delivered_share", c.DeliveredShare); err != nil {
		return err
	}
	return validateShare("read_share", c.ReadShare)
}

func validateShare(name string, p *float64) error {
	if p != nil && !(*p >= 0 && *p <= 1) {
		return fmt.Errorf("%s must be between 0 and 1, got %g", name, *p)
	}
	return nil
}

// validateRules checks each rule and that the shares add up to at most 1.
func validateRules(rules []ErrorRule, name string) error {
	sum := 0.0
	for i, r := range rules {
		if err := r.validate(fmt.Sprintf("%s[%d]", name, i)); err != nil {
			return err
		}
		sum += r.Share
	}
	if sum > 1+1e-9 {
		return fmt.Errorf("%s shares add up to %g, must be at most 1", name, sum)
	}
	return nil
}

func (r ErrorRule) validate(name string) error {
	if !(r.Share >= 0 && r.Share <= 1) {
		return fmt.Errorf("%s.share must be between 0 and 1, got %g", name, r.Share)
	}
	switch r.Action {
	case "", ActionReset, ActionHang:
	default:
		return fmt.Errorf("%s.action must be \"\", %q or %q, got %q", name, ActionReset, ActionHang, r.Action)
	}
	if r.Code < 0 {
		return fmt.Errorf("%s.code must not be negative, got %d", name, r.Code)
	}
	if r.HTTPStatus != 0 && (r.HTTPStatus < 400 || r.HTTPStatus > 599) {
		return fmt.Errorf("%s.http_status must be between 400 and 599, got %d", name, r.HTTPStatus)
	}
	if r.Action == "" && r.Code == 0 && r.HTTPStatus == 0 {
		return fmt.Errorf("%s needs a code, an http_status or an action", name)
	}
	return nil
}

// clone returns a deep copy of c.
func (c Config) clone() Config {
	c.Keys = slices.Clone(c.Keys)
	c.Templates = slices.Clone(c.Templates)
	c.Errors = slices.Clone(c.Errors)
	c.FailRecipients = maps.Clone(c.FailRecipients)
	if c.DeliveredShare != nil {
		v := *c.DeliveredShare
		c.DeliveredShare = &v
	}
	if c.ReadShare != nil {
		v := *c.ReadShare
		c.ReadShare = &v
	}
	return c
}
