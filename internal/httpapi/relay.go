package httpapi

import (
	"context"
	"net/http"
)

// storeRelay starts storing an authenticated webhook for its relay destinations,
// alongside its recording, and returns what waits for it. Both end before
// the webhook is answered: once the provider has its 200, the webhook is in
// Redis for each destination. When either fails, the provider delivers it
// again, and each step is idempotent (the relay task's id keeps a copy
// still queued single).
func (s *Server) storeRelay(ctx context.Context, body []byte, h http.Header, kinds map[string]bool) (wait func() error) {
	if s.relay == nil {
		return func() error { return nil }
	}
	relay := s.relay
	if len(body) > SmallWebhook {
		relay = s.relayLarge
	}
	done := make(chan error, 1)
	go func() { done <- relay.Store(ctx, body, h, kinds) }()
	return func() error { return <-done }
}
