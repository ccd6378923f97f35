// Package redisconn turns MMLITE_REDIS_URL into connection options for asynq
// and go-redis: a single node (redis://, rediss:// for TLS), Sentinel
// (redis-sentinel://) or Cluster (redis-cluster://).
//
//	redis://[user:pass@]host:port/db
//	rediss://[user:pass@]host:port/db
//	redis-sentinel://[user:pass@]host1:port1,host2:port2/db?master=NAME[&sentinel_password=P]
//	redis-cluster://[user:pass@]host1:port1,host2:port2[?tls=true]
package redisconn
