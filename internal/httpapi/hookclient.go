package httpapi

import "github.com/redis/go-redis/v9"

// intakeClient is the client the webhook intake writes through: go-redis's
// autopipeliner over rdb, which sends the commands of the webhooks being
// taken at the same time in shared pipelines, so that a busy intake pays a
// round trip per batch of webhooks rather than several per webhook (see
// docs/benchmarks.md#webhook-intake). Each webhook still waits for its own
// commands' replies before it is answered. A client that cannot autopipeline
// (a Ring) is used as it is.
//
// What it costs: a command once queued runs even if its webhook's client
// goes away (the wait is bounded by go-redis's read and write timeouts, and
// every step is idempotent), and one batch is in flight at a time, so
// large bodies are stored for the relay on a connection of their own (see
// Server.relayLarge); a webhook of many statuses uses a pipeline of its own
// too (see store.Deliveries).
func intakeClient(rdb redis.UniversalClient) redis.UniversalClient {
	if ap, err := rdb.AutoPipeline(); err == nil {
		return ap
	}
	return rdb
}

// isCluster says whether rdb is a Redis Cluster, where a status task (on
// the results queue's slot) cannot be written in the step that records its
// event (on the send queue's).
func isCluster(rdb redis.UniversalClient) bool {
	_, ok := rdb.(*redis.ClusterClient)
	return ok
}
