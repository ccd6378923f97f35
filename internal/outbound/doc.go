// Package outbound delivers what mmlite passes on over HTTP: the number's
// webhooks, relayed byte for byte to the team's destinations, and the
// outcome callbacks (results, status and campaign events) to
// MMLITE_RESULTS_URL.
//
// Both are asynq tasks, written before anything is acknowledged (the api
// answers the provider once the relay tasks are stored; a result's callback
// task is written in the same step as the result). A worker delivers them
// on queues of their own (one per relay destination, one for callbacks),
// apart from the send jobs, so that a destination that is down never slows
// sending or the intake: its deliveries wait in its queue, retried with
// backoff until they are MaxAge old, and a destination answering a
// permanent 4xx has them archived with its answer, to be replayed.
//
// Every POST is signed with the destination's secret:
// X-Mmlite-Signature: sha256=<hex HMAC-SHA256 of the body>, and carries an
// id that is the same on every retry (X-Mmlite-Delivery-Id for a relayed
// webhook, Idempotency-Key for a callback), so that the receiver can drop
// duplicates.
package outbound
