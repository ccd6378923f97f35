package outbound

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// urlCache remembers campaigns' callback_url for a while: a campaign's
// callbacks come by the thousand, its definition does not change.
type urlCache struct {
	mu      sync.Mutex
	entries map[string]urlEntry
}

type urlEntry struct {
	url     string
	at      time.Time
	refused error // why MMLITE_CALLBACK_HOSTS refuses url, checked once
}

const urlTTL = 5 * time.Minute

// callbackURL is where a callback goes: its campaign's callback_url, or
// MMLITE_RESULTS_URL. A failed lookup is an error (the delivery is
// retried), never a callback sent elsewhere.
func (s *Server) callbackURL(ctx context.Context, payload []byte) (string, error) {
	def := s.cfg.Callbacks.URL
	if s.cfg.CallbackURL == nil {
		return def, nil
	}
	var p struct {
		CampaignID string `json:"campaign_id"`
	}
	if json.Unmarshal(payload, &p) != nil || p.CampaignID == "" {
		return def, nil
	}
	s.urls.mu.Lock()
	e, ok := s.urls.entries[p.CampaignID]
	s.urls.mu.Unlock()
	if !ok || time.Since(e.at) > urlTTL {
		u, err := s.cfg.CallbackURL(ctx, p.CampaignID)
		if err != nil {
			return "", &lookupError{fmt.Errorf("outbound: the callback_url of campaign %s: %w", p.CampaignID, err)}
		}
		e = urlEntry{url: u, at: time.Now()}
		if u != "" {
			e.refused = s.cfg.CallbackHosts.Allow(u)
		}
		s.urls.mu.Lock()
		if len(s.urls.entries) >= 10000 {
			clear(s.urls.entries)
		}
		s.urls.entries[p.CampaignID] = e
		s.urls.mu.Unlock()
	}
	if e.url == "" {
		return def, nil
	}
	if e.refused != nil {
		return "", rejected{fmt.Errorf("outbound: the callback_url of campaign %s: %w", p.CampaignID, e.refused),
			"replay it once MMLITE_CALLBACK_HOSTS allows the host"}
	}
	return e.url, nil
}

// lookupError is a failure to read a campaign: retried, not archived.
type lookupError struct{ err error }

func (e *lookupError) Error() string { return e.err.Error() }
func (e *lookupError) Unwrap() error { return e.err }
