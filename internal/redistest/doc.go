// Package redistest gives tests a Redis: an embedded miniredis by default,
// or the real server named by MMLITE_TEST_REDIS_URL. On a real server each
// test gets its own send and results queue names, so tests and packages can
// run in parallel on one database without seeing each other's keys.
package redistest
