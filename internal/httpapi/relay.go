package httpapi

import (
	"context"
	"net/http"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/internal/webhook"
)

// storeRelay has an authenticated webhook stored for its relay
// destinations, and returns what waits for it. Both end before the webhook
// is answered: once the provider has its 200, the webhook is in Redis for
// each destination. When storing or recording fails, the provider
// delivers it again, and each step is idempotent (the relay task's id
// keeps a copy still queued single).
//
// A small webhook of statuses on a single Redis node has its relay tasks
// written by the step that records its first status (returned as always,
// for store.Delivery.Always): the relay then costs no command and no
// script call of its own; when the webhook cannot be recorded (and Redis
// could be reached), its receiver writes them on their own before it
// answers. Any other is stored now, alongside its recording.
func (s *Server) storeRelay(ctx context.Context, body []byte, h http.Header, ev *webhook.Events) (always *store.ResultTask, wait func() error) {
	if s.relay == nil {
		return nil, func() error { return nil }
	}
	if s.fuse && len(ev.Statuses) > 0 && len(body) <= SmallWebhook {
		t, err := s.relay.Tasks(ctx, body, h, ev.Kinds)
		return t, func() error { return err }
	}
	relay := s.relay
	if len(body) > SmallWebhook {
		relay = s.relayLarge
	}
	done := make(chan error, 1)
	go func() { done <- relay.Store(ctx, body, h, ev.Kinds) }()
	return nil, func() error { return <-done }
}
