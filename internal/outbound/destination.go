package outbound

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/mmlite/mmlite/internal/readlimit"
	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/mmlite/mmlite/internal/yamllist"
	"gopkg.in/yaml.v3"
)

// MaxFile is the largest destinations file, or secret_file, that Load reads.
const MaxFile = 1 << 20

// Destination is where relayed webhooks go.
type Destination struct {
	// Name labels the destination's metrics and names its queue.
	Name string `yaml:"name"`
	// URL receives the POSTs: https://, or http:// on a loopback address.
	URL string `yaml:"url"`
	// SecretEnv or SecretFile holds the secret the POSTs are signed with.
	SecretEnv  string `yaml:"secret_env"`
	SecretFile string `yaml:"secret_file"`
	// Fields are the kinds of webhook the destination takes (see webhook.Events.Kinds);
	// none, or "all", means every webhook.
	Fields []string `yaml:"fields"`

	secret string
	queue  string // set by Load; RelayQueuePrefix + Name when empty
}

// ForwardName is the name of the destination MMLITE_WEBHOOK_FORWARD declares.
const ForwardName = "forward"

// Secret is the key the destination's POSTs are signed with.
func (d *Destination) Secret() string { return d.secret }

// Queue is the asynq queue of the destination's deliveries:
// mmlite-relay-<name> in the default installation (see CallbackQueueOf).
func (d *Destination) Queue() string {
	if d.queue != "" {
		return d.queue
	}
	return RelayQueuePrefix + d.Name
}

// all says whether the destination takes every webhook.
func (d *Destination) all() bool {
	return len(d.Fields) == 0 || len(d.Fields) == 1 && d.Fields[0] == "all"
}

// wants says whether a webhook of those kinds goes to the destination.
func (d *Destination) wants(kinds map[string]bool) bool {
	if d.all() {
		return true
	}
	for _, f := range d.Fields {
		if kinds[f] {
			return true
		}
	}
	return false
}

// Sources say where the destinations are declared.
type Sources struct {
	// Forward is MMLITE_WEBHOOK_FORWARD: one destination, "forward", taking
	// every webhook, signed with ForwardSecret (MMLITE_WEBHOOK_FORWARD_SECRET).
	Forward, ForwardSecret string
	// File is MMLITE_WEBHOOK_DESTINATIONS, a YAML file with a
	// "destinations:" list.
	File string
	// Getenv reads secret_env variables; os.Getenv when nil.
	Getenv func(string) string
	// NoSecrets loads the destinations without their secrets (what the
	// api, which stores the relay tasks, and mmlite outbound status and
	// replay read): the secrets are not read, and need not be set where
	// those run; only the workers sign.
	NoSecrets bool
	// Queue is the installation's send queue (MMLITE_QUEUE): the
	// destinations' queues are its own (see CallbackQueueOf); "" is the
	// default's.
	Queue string
}

// Load returns the destinations, validated; none when neither source is set.
func Load(s Sources) ([]*Destination, error) {
	ds, err := load(s)
	for _, d := range ds {
		d.queue = relayQueuePrefixOf(s.Queue) + d.Name
	}
	return ds, err
}

func load(s Sources) ([]*Destination, error) {
	if s.Getenv == nil {
		s.Getenv = os.Getenv
	}
	switch {
	case s.Forward != "" && s.File != "":
		return nil, errors.New("set MMLITE_WEBHOOK_FORWARD or MMLITE_WEBHOOK_DESTINATIONS, not both")
	case s.Forward == "" && strings.TrimSpace(s.ForwardSecret) != "":
		return nil, errors.New("MMLITE_WEBHOOK_FORWARD_SECRET is set but MMLITE_WEBHOOK_FORWARD is not: it signs that URL's POSTs only " +
			"(a destinations file names each destination's secret_env or secret_file)")
	case s.Forward != "":
		d := &Destination{Name: ForwardName, URL: s.Forward, secret: strings.TrimSpace(s.ForwardSecret)}
		if err := d.validate("MMLITE_WEBHOOK_FORWARD"); err != nil {
			return nil, err
		}
		if d.secret == "" && !s.NoSecrets {
			return nil, errors.New("MMLITE_WEBHOOK_FORWARD_SECRET is empty: relayed webhooks are signed with it")
		}
		return []*Destination{d}, nil
	case s.File == "":
		return nil, nil
	}
	b, err := readlimit.ReadFile(s.File, MaxFile)
	if err != nil {
		return nil, err
	}
	getenv := s.Getenv
	if s.NoSecrets {
		getenv = nil
	}
	ds, err := parse(b, getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.File, err)
	}
	return ds, nil
}

// parse reads a destinations file; getenv reads secret_env variables, and
// nil reads no secret at all (see Sources.NoSecrets).
func parse(b []byte, getenv func(string) string) ([]*Destination, error) {
	nodes, err := yamllist.Items(b, "destinations", func(doc *struct {
		Destinations []yaml.Node `yaml:"destinations"`
	}) []yaml.Node {
		return doc.Destinations
	})
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	out := make([]*Destination, 0, len(nodes))
	for i, n := range nodes {
		at := fmt.Sprintf("line %d: destinations[%d]", n.Line, i)
		if n.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s: want a mapping (name, url, secret_env, fields)", at)
		}
		for j := 0; j+1 < len(n.Content); j += 2 {
			switch k := n.Content[j]; {
			case k.Value == "secret":
				return nil, fmt.Errorf("line %d: destinations[%d]: secret must not be written in the file: use secret_env or secret_file", k.Line, i)
			case !knownKeys[k.Value]:
				return nil, fmt.Errorf("line %d: destinations[%d]: unknown field %q (want name, url, secret_env, secret_file, fields)", k.Line, i, k.Value)
			}
		}
		d := new(Destination)
		if err := yamllist.Decode(&n, d); err != nil {
			return nil, yamllist.At(err, n.Line, fmt.Sprintf("destinations[%d]", i))
		}
		if d.Name != "" {
			at += " (" + d.Name + ")"
		}
		if err := d.validate(at); err != nil {
			return nil, err
		}
		if prev, dup := seen[d.Name]; dup {
			return nil, fmt.Errorf("%s: name %q already declared by destinations[%d]", at, d.Name, prev)
		}
		seen[d.Name] = i
		if getenv != nil { // nil: names and queues only
			if err := d.resolveSecret(at, getenv); err != nil {
				return nil, err
			}
		}
		out = append(out, d)
	}
	return out, nil
}

var knownKeys = map[string]bool{"name": true, "url": true, "secret_env": true, "secret_file": true, "fields": true}

// knownKinds are the webhook kinds a destination may choose (see webhook.Events.Kinds):
// the WhatsApp Business Account webhook fields, with "messages" split by
// what its value holds. A misspelt kind would silently pass nothing.
var knownKinds = map[string]bool{"messages": true, "statuses": true, "user_actions": true, "account_update": true,
	"account_alerts": true, "account_review_update": true, "business_capability_update": true,
	"message_template_status_update": true, "message_template_quality_update": true,
	"message_template_components_update": true, "template_category_update": true, "phone_number_name_update": true,
	"phone_number_quality_update": true, "security": true, "flows": true, "message_echoes": true,
	"history": true, "smb_app_state_sync": true, "smb_message_echoes": true, "user_preferences": true,
	"partner_solutions": true, "payment_configuration_update": true, "tracking_events": true}

func kindList() string {
	ks := make([]string, 0, len(knownKinds))
	for k := range knownKinds {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

func (d *Destination) validate(at string) error {
	switch {
	case !nameRE.MatchString(d.Name):
		return fmt.Errorf("%s: name must be 1 to 40 of a-z, 0-9, _ and -, starting with a letter or digit, got %q", at, d.Name)
	case d.Name == CallbackName:
		// Their metrics and deliveries would be counted as one.
		return fmt.Errorf("%s: name %q is taken by the callbacks (their metrics, mmlite outbound --destination): choose another", at, d.Name)
	}
	if err := CheckURL(d.URL); err != nil {
		return fmt.Errorf("%s: url: %w", at, err)
	}
	for _, f := range d.Fields {
		switch {
		case f == "all" && len(d.Fields) > 1:
			return fmt.Errorf("%s: fields: \"all\" takes every webhook: write it alone, got %q", at, d.Fields)
		case f != "all" && !knownKinds[f]:
			return fmt.Errorf("%s: fields: unknown webhook kind %q: want some of %s, or just \"all\"", at, f, kindList())
		}
	}
	return nil
}

func (d *Destination) resolveSecret(at string, getenv func(string) string) error {
	switch {
	case d.SecretEnv != "" && d.SecretFile != "":
		return fmt.Errorf("%s: set secret_env or secret_file, not both", at)
	case d.SecretEnv != "":
		if d.secret = strings.TrimSpace(getenv(d.SecretEnv)); d.secret == "" {
			return fmt.Errorf("%s: secret_env %s is empty", at, d.SecretEnv)
		}
	case d.SecretFile != "":
		b, err := readlimit.ReadFile(d.SecretFile, MaxFile)
		if err != nil {
			return fmt.Errorf("%s: secret_file: %w", at, err)
		}
		if d.secret = strings.TrimSpace(string(b)); d.secret == "" {
			return fmt.Errorf("%s: secret_file %s is empty", at, d.SecretFile)
		}
	default:
		return fmt.Errorf("%s: no secret: set secret_env or secret_file", at)
	}
	return nil
}

// CheckURL accepts an https:// URL, or an http:// one on a loopback
// address (see package safeurl).
func CheckURL(raw string) error { return safeurl.Check(raw) }
