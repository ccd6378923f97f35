// Package keyspace names every Redis key mmlite writes. All of them carry
// the send queue's name as their hash tag, like asynq's own keys for that
// queue, so that in Redis Cluster one Lua script can touch a campaign's
// state and its jobs together.
package keyspace
