// Package task is the contract between producers, workers and upstream
// consumers in Redis: task type names, queue names and payloads. Producers
// and workers of different versions meet here, so the wire JSON is pinned by
// tests; change it only with a migration note.
package task
