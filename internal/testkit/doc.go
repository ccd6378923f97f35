// Package testkit is the one test setup of mmlite's worker and end-to-end
// tests: a Redis (embedded, or the real one of MMLITE_TEST_REDIS_URL), the
// fake provider API on a real HTTP server, a sender pointed at it, asynq's
// inspector and a reader of the results queue. It is for tests only.
package testkit
