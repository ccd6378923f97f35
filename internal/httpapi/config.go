package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/clientip"
	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is everything the API needs.
type Config struct {
	Producer *producer.Producer
	// Token is required on every /v1 request as "Authorization: Bearer <token>".
	Token string
	// AllowNoAuth must be set to serve /v1 without a token.
	AllowNoAuth bool
	// MaxBody limits POST /v1/campaigns; MaxUpload limits recipient uploads.
	MaxBody   int64
	MaxUpload int64
	// Registerer receives the api's metrics (and the producer's, when it
	// was given the same); /metrics serves it when it is also a Gatherer.
	// A new registry when nil.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Ready is /readyz; nil means always ready.
	Ready metrics.Check
	// ResultsQueue receives mmlite:status tasks; default task.DefaultResultsQueue.
	ResultsQueue string
	// WebhookSecret is required in X-Webhook-Secret (360dialog) when set.
	WebhookSecret string
	// AppSecret verifies X-Hub-Signature-256 (Meta) when set. With neither
	// secret, webhooks are refused unless AllowNoAuth.
	AppSecret string
	// VerifyToken answers Meta's GET handshake; default WebhookSecret.
	VerifyToken    string
	MaxWebhookBody int64 // default 8 MiB
	// MaxIntake is how many intake requests (POST /v1/campaigns and
	// POST /v1/campaigns/{id}/recipients) read their body at once; the
	// others wait. Default DefaultMaxIntake.
	MaxIntake int
	// LargeWebhooks is how many webhook bodies over SmallWebhook bytes are
	// read at once; the others wait. Default DefaultLargeWebhooks.
	LargeWebhooks int
	// LargeWebhookRead is how long a large webhook may take to start
	// arriving once it holds a slot, before it must keep
	// MinLargeWebhookRate; a client that stalls past it is refused and the
	// slot freed (it must not hold the provider's batches back). Default
	// DefaultLargeWebhookRead.
	LargeWebhookRead time.Duration
	// MaxValue is the largest JSON value of a POST /v1/campaigns body (the
	// campaign, one recipient, with the white space before it), and the
	// most recipients held when they come before their campaign. Default
	// DefaultMaxValue.
	MaxValue int64
	// ReadTimeout is how long a request may take to arrive, its headers
	// and body, unless it carries the api's token or a console session:
	// those get httpserve.LongRead once they are checked (an upload of a
	// large list), so that a client that has proved nothing cannot hold a
	// connection open (a stalled body on any route, the webhook's too).
	// Default DefaultReadTimeout.
	ReadTimeout time.Duration
	// DisableUI turns the console at /ui/ off (MMLITE_UI=false).
	DisableUI bool
	// TrustedProxies are the proxies (an Ingress, a load balancer) whose
	// X-Forwarded-For tells the console's login limit who the client is
	// (MMLITE_TRUSTED_PROXIES); none: the connection's address.
	TrustedProxies clientip.Proxies
	// Guard tunes the protections webhooks and /v1/suppressions act on
	// (see package guard).
	Guard guard.Config
	// Destinations receive every authenticated webhook, relayed (see
	// package outbound); none: no relay.
	Destinations []*outbound.Destination
}

// refusesWebhooks: with no secret to check them by, every webhook is
// refused (unless AllowNoAuth).
func (c *Config) refusesWebhooks() bool {
	return c.WebhookSecret == "" && c.AppSecret == "" && !c.AllowNoAuth
}

// relayAuthenticated refuses to relay unauthenticated webhooks (no secret,
// --insecure-no-auth) off this machine: the destination would receive
// them signed with its secret, as if the provider had sent them, though
// anyone who reached the api could have written them.
func (c *Config) relayAuthenticated() error {
	if !c.AllowNoAuth || c.WebhookSecret != "" || c.AppSecret != "" {
		return nil
	}
	for _, d := range c.Destinations {
		if !safeurl.OnLoopback(d.URL) {
			return fmt.Errorf("relay destination %q is not on this machine, and --insecure-no-auth without MMLITE_WEBHOOK_SECRET "+
				"or MMLITE_META_APP_SECRET takes any POST as a webhook: it would reach %q signed as if the provider had sent it; "+
				"set a webhook secret, or relay to a loopback address only", d.Name, d.Name)
		}
	}
	return nil
}

// Defaults.
const (
	DefaultMaxBody   = 64 << 20
	DefaultMaxUpload = 1 << 30
	// DefaultMaxWebhookBody fits 1,000 statuses, Meta's largest batch, many times.
	DefaultMaxWebhookBody = 8 << 20
	// DefaultMaxIntake bounds the api's memory (see MaxIntake) while
	// leaving room for several clients, each already streaming its rows
	// through several Redis writers.
	DefaultMaxIntake = 8
	// SmallWebhook is the largest webhook body read without waiting for
	// one of the LargeWebhooks slots: a provider's usual batch is a few KiB.
	SmallWebhook = 64 << 10
	// DefaultLargeWebhooks: large webhook bodies are rare.
	DefaultLargeWebhooks = 4
	// DefaultLargeWebhookRead: a provider sends from a data centre.
	DefaultLargeWebhookRead = 10 * time.Second
	// DefaultReadTimeout: a request that proved nothing (a webhook, a
	// login, a wrong token) is small and comes at once.
	DefaultReadTimeout = 30 * time.Second
	// DefaultMaxValue bounds a JSON value like a row of a recipients file.
	DefaultMaxValue = producer.MaxLine
)

func (c Config) WithDefaults() Config {
	def := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.MaxBody, DefaultMaxBody)
	def(&c.MaxUpload, DefaultMaxUpload)
	def(&c.MaxWebhookBody, DefaultMaxWebhookBody)
	def(&c.MaxValue, DefaultMaxValue)
	if c.MaxIntake == 0 {
		c.MaxIntake = DefaultMaxIntake
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.LargeWebhookRead == 0 {
		c.LargeWebhookRead = DefaultLargeWebhookRead
	}
	if c.LargeWebhooks == 0 {
		c.LargeWebhooks = DefaultLargeWebhooks
	}
	if c.ResultsQueue == "" {
		c.ResultsQueue = task.DefaultResultsQueue
	}
	// A token or secret set from a secret's file keeps its newline, which
	// no request could present: trimmed, as the senders' keys are.
	for _, v := range []*string{&c.Token, &c.WebhookSecret, &c.AppSecret, &c.VerifyToken} {
		*v = strings.TrimSpace(*v)
	}
	if c.VerifyToken == "" {
		c.VerifyToken = c.WebhookSecret
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate checks the config (with its defaults), naming the setting.
func (c Config) Validate() error {
	c = c.WithDefaults()
	positive := func(name string, v int64) error {
		if v < 1 {
			return fmt.Errorf("%s is %d: it must be at least 1", name, v)
		}
		return nil
	}
	switch {
	case c.Producer == nil:
		return errors.New("a producer is required")
	case c.Token == "" && !c.AllowNoAuth:
		return errors.New("MMLITE_API_TOKEN is empty: set it, or pass --insecure-no-auth to serve /v1 without authentication")
	}
	if err := c.relayAuthenticated(); err != nil {
		return err
	}
	return errors.Join(positive("MMLITE_MAX_BODY", c.MaxBody), positive("MMLITE_MAX_UPLOAD", c.MaxUpload),
		positive("MMLITE_MAX_WEBHOOK_BODY", c.MaxWebhookBody), positive("MMLITE_MAX_INTAKE", int64(c.MaxIntake)),
		positive("LargeWebhooks", int64(c.LargeWebhooks)), positive("LargeWebhookRead", int64(c.LargeWebhookRead)),
		positive("ReadTimeout", int64(c.ReadTimeout)), positive("MaxValue", c.MaxValue), c.Guard.Validate())
}
