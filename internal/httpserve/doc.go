// Package httpserve runs an HTTP server with timeouts until its context
// ends, then shuts it down gracefully. It also holds what the api and its
// console answer alike: the Allow header of a 405, the reading of a query
// string and its refusals.
package httpserve
