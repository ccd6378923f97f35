// Package worker consumes mmlite:send jobs from Redis (asynq) and sends each
// through the Marketing Messages Lite API: rate-limited per sender, at most
// once per recipient, retried by the class of its failure, never past the
// campaign's expiry. Every job that reaches a final outcome produces exactly
// one mmlite:result task and one count in mmlite_messages_total.
//
// Run starts a worker and stops it gracefully when its context ends; tests
// and the demo run it in-process.
package worker
