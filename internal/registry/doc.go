// Package registry keeps senders' shared state in Redis: what workers
// publish about their senders, which WABAs signed the MM Lite terms, and
// link clicks.
package registry
