package sender

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/mmlite/mmlite/internal/readlimit"
	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/mmlite/mmlite/internal/yamllist"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"gopkg.in/yaml.v3"
)

// MaxFile is the largest senders file, or api_key_file, that Load reads.
const MaxFile = 1 << 20

// Options say how to build the senders.
type Options struct {
	// File is the senders file; "" means the single sender "default".
	File string
	// BaseURL is MMLITE_API_BASE_URL, the default base URL.
	BaseURL string
	// Key and Rate are MMLITE_API_KEY and MMLITE_RATE, for "default" without a file.
	// A zero Rate is not set: DefaultRate. (mmlite refuses MMLITE_RATE=0
	// itself, before Load: its flag's default is DefaultRate, so a 0 there
	// was set on purpose.)
	Key  string
	Rate float64
	// ResolveKeys reads every sender's key and fails when one is missing.
	// The worker needs keys; the api and the producer do not.
	ResolveKeys bool
	// Getenv reads api_key_env variables; os.Getenv when nil.
	Getenv func(string) string
}

// Load returns the senders, validated, in file order.
func Load(o Options) ([]*Sender, error) {
	if o.BaseURL == "" {
		o.BaseURL = Default360BaseURL
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	// As a key read through api_key_env or api_key_file: one set from a
	// secret's file keeps its newline, which no HTTP header may carry.
	o.Key = strings.TrimSpace(o.Key)
	if o.File == "" {
		return single(o)
	}
	b, err := readlimit.ReadFile(o.File, MaxFile)
	if err != nil {
		return nil, err
	}
	ss, err := parse(b, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.File, err)
	}
	return ss, nil
}

func single(o Options) ([]*Sender, error) {
	rate := o.Rate
	if rate == 0 {
		rate = DefaultRate
	}
	s := &Sender{ID: DefaultID, BaseURL: o.BaseURL, Rate: rate, key: o.Key}
	s.setDefaults(o.BaseURL)
	if err := s.validate("MMLITE_RATE / MMLITE_API_BASE_URL"); err != nil {
		return nil, err
	}
	if o.ResolveKeys && s.key == "" {
		return nil, errors.New("MMLITE_API_KEY is empty (set it, or declare senders in MMLITE_SENDERS_FILE)")
	}
	return []*Sender{s}, nil
}

// parse reads the YAML with line numbers in every error.
func parse(b []byte, o Options) ([]*Sender, error) {
	nodes, err := yamllist.Items(b, "senders", func(doc *struct {
		Senders []yaml.Node `yaml:"senders"`
	}) []yaml.Node {
		return doc.Senders
	})
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	numbers := map[string]int{}    // phone_number_id: the sender's index
	portfolios := map[string]int{} // portfolio_id: its first sender's index
	out := make([]*Sender, 0, len(nodes))
	for i, n := range nodes {
		path := fmt.Sprintf("senders[%d]", i)
		if err := checkKeys(&n, path); err != nil {
			return nil, err
		}
		s := new(Sender)
		decodeErr := yamllist.Decode(&n, s)
		if s.ID != "" {
			path += " (" + s.ID + ")"
		}
		if decodeErr == nil {
			decodeErr = checkValues(&n)
		}
		if decodeErr != nil {
			return nil, yamllist.At(decodeErr, n.Line, path)
		}
		at := fmt.Sprintf("line %d: %s", n.Line, path)
		s.setDefaults(o.BaseURL)
		if err := s.validate(at); err != nil {
			return nil, err
		}
		if prev, dup := seen[s.ID]; dup {
			return nil, fmt.Errorf("%s: id %q already declared by senders[%d]", at, s.ID, prev)
		}
		seen[s.ID] = i
		// Meta counts the rate per number, and webhooks name the number:
		// two senders of one number would send at twice its rate, and
		// its webhooks go to either.
		if prev, dup := numbers[s.PhoneNumberID]; dup && s.PhoneNumberID != "" {
			return nil, fmt.Errorf("%s: phone_number_id %q already declared by senders[%d] (%s): a number is one sender",
				at, s.PhoneNumberID, prev, out[prev].ID)
		}
		numbers[s.PhoneNumberID] = i
		// The senders of a portfolio count against one limit, but each
		// claims under its own messaging_limit: one without it would send
		// unlimited.
		if prev, ok := portfolios[s.PortfolioID]; ok && s.PortfolioID != "" && out[prev].MessagingLimit != s.MessagingLimit {
			return nil, fmt.Errorf("%s: messaging_limit %s differs from senders[%d] (%s)'s %s, of the same portfolio_id %q: its senders share one limit, give each the same",
				at, s.MessagingLimit, prev, out[prev].ID, out[prev].MessagingLimit, s.PortfolioID)
		}
		if _, ok := portfolios[s.PortfolioID]; !ok {
			portfolios[s.PortfolioID] = i
		}
		if err := s.resolveKey(at, o); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

var knownKeys = map[string]bool{"id": true, "provider": true, "base_url": true, "api_key_env": true,
	"api_key_file": true, "rate": true, "burst": true, "phone_number_id": true, "waba_id": true,
	"require_onboarding": true, "portfolio_id": true, "messaging_limit": true, "on_fallback": true}

// checkKeys refuses unknown fields, and keys written inline with a
// helpful message, each by its key's line; path is the sender's
// (senders[0]).
func checkKeys(n *yaml.Node, path string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: %s: want a mapping (id, rate, api_key_env, ...)", n.Line, path)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		switch {
		case k.Value == "api_key" || k.Value == "key" || k.Value == "token":
			return fmt.Errorf("line %d: %s: %s must not be written in the file: use api_key_env or api_key_file", k.Line, path, k.Value)
		case !knownKeys[k.Value]:
			return fmt.Errorf("line %d: %s: unknown field %q", k.Line, path, k.Value)
		}
	}
	return nil
}

func (s *Sender) resolveKey(at string, o Options) error {
	switch {
	case s.APIKeyEnv != "" && s.APIKeyFile != "":
		return fmt.Errorf("%s: set api_key_env or api_key_file, not both", at)
	case s.APIKeyEnv != "":
		s.key = strings.TrimSpace(o.Getenv(s.APIKeyEnv))
		if s.key == "" && o.ResolveKeys {
			return fmt.Errorf("%s: api_key_env %s is empty", at, s.APIKeyEnv)
		}
	case s.APIKeyFile != "":
		if !o.ResolveKeys {
			return nil
		}
		b, err := readlimit.ReadFile(s.APIKeyFile, MaxFile)
		if err != nil {
			return fmt.Errorf("%s: api_key_file: %w", at, err)
		}
		if s.key = strings.TrimSpace(string(b)); s.key == "" {
			return fmt.Errorf("%s: api_key_file %s is empty", at, s.APIKeyFile)
		}
	case s.ID == DefaultID && o.Key != "":
		s.key = o.Key
	case o.ResolveKeys:
		return fmt.Errorf("%s: no key: set api_key_env or api_key_file", at)
	}
	return nil
}

// validateBase checks base_url, the base the endpoint's path is added to
// (see mmapi.Endpoint.URL): a URL copied whole from the provider's
// documentation would send every message to a path that does not exist.
func (s *Sender) validateBase(at string) error {
	raw := s.BaseURL
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: base_url must be an http(s) URL, got %q", at, safeurl.Redact(raw))
	}
	path := strings.TrimRight(u.Path, "/")
	short := safeurl.CutShort(raw, u)
	switch {
	case short != nil:
		return fmt.Errorf("%s: base_url has %w", at, short)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.HasSuffix(raw, "#"):
		return fmt.Errorf("%s: base_url must have no query or fragment (the endpoint's path is added to it), got %q", at, safeurl.Redact(raw))
	case strings.HasSuffix(path, "/marketing_messages"):
		return fmt.Errorf("%s: base_url is the provider's base URL, without /marketing_messages (it is added), got %q", at, safeurl.Redact(raw))
	case s.Provider == mmapi.ProviderMeta && s.PhoneNumberID != "" && strings.HasSuffix(path, "/"+s.PhoneNumberID):
		return fmt.Errorf("%s: base_url must not end with the phone_number_id (it is added for provider meta), got %q", at, safeurl.Redact(raw))
	}
	return nil
}
