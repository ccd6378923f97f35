// Package testctx has contexts for tests: one whose deadline passes on an
// event rather than after a fixed time.
package testctx
