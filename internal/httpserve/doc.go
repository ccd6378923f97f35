// Package httpserve runs an HTTP server with timeouts until its context
// ends, then shuts it down gracefully.
package httpserve
