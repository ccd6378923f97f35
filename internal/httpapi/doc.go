// Package httpapi is mmlite's HTTP face (the `mmlite api` process): campaign
// intake and control under /v1 (bearer token), and /metrics, /healthz,
// /readyz. Every error is JSON that says what and where; no request can
// crash the process or lose what was already accepted.
package httpapi
