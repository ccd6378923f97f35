// Package metrics builds mmlite's /metrics, /healthz and /readyz handlers,
// on a registry of their own with Go and process collectors, and collects
// the asynq queues' sizes straight from Redis.
package metrics
