package httpapi

import "github.com/redis/go-redis/v9"

// intakeClient is the client the webhook intake writes through: go-redis's
// autopipeliner over rdb, which sends the commands of the webhooks being
// taken at the same time in shared pipelines, so that a busy intake pays a
// round trip per batch of webhooks rather than several per webhook (see
// docs/benchmarks.md#webhook-intake). Each webhook still waits for its own
// commands' replies before it is answered. A client that cannot autopipeline
// (a Ring) is used as it is.
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
