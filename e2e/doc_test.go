// Package e2e tests mmlite end to end, in-process: the producer and the api,
// workers, and the fake API over HTTP, on the embedded Redis or the real one
// (MMLITE_TEST_REDIS_URL). It holds only tests: producer and worker never
// import each other, so what needs both lives here.
package e2e_test
