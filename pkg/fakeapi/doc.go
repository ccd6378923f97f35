// Package fakeapi is a local fake of the WhatsApp "Marketing Messages Lite"
// send endpoint, as served by 360dialog (POST /marketing_messages with a
// D360-API-KEY header) and by Meta directly
// (POST /{version}/{phone_number_id}/marketing_messages with a bearer token).
//
// It is meant for development, demos and tests of a campaign sender. It is
// as strict as the real API about its input, answers with the real error
// envelopes and status codes, and can inject latency, random failures
// (Meta error codes, bare HTTP statuses, connection resets and hangs), a
// per-key rate limit and per-recipient failures. Every request is recorded,
// so tests can check what a sender did (Sends, Attempts, Requests, Stats).
//
// After Start, the fake posts delivery status webhooks (sent, delivered,
// read) for accepted messages to Config.WebhookURL, batched and signed like
// Meta's.
//
// A Server is an http.Handler; serve it with net/http or httptest:
//
//	fake, err := fakeapi.New(fakeapi.Config{Keys: []string{"k1"}})
//	if err != nil { ... }
//	fake.Start(ctx)
//	defer fake.Close()
//	srv := httptest.NewServer(fake)
//	defer srv.Close()
//
// Its behaviour can be changed while it runs with SetConfig or through the
// control endpoints under /_fake/ (GET and PUT /_fake/config,
// GET /_fake/stats, POST /_fake/reset).
package fakeapi
