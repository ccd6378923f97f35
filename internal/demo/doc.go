// Package demo runs mmlite end to end in one process, for `mmlite demo`:
// an embedded Redis, the api, the fake 360dialog API posting its webhooks
// to the api, and a worker. It sends a sample campaign through the HTTP API
// as a client would, shows its progress, and reports the outcomes read back
// from the results queue.
package demo
