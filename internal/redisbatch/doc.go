// Package redisbatch runs Lua scripts of many goroutines in shared
// pipelines: calls that arrive within a short window go to Redis in one
// round trip. A busy worker claims and settles dozens of recipients at once;
// one round trip each would spend its time in system calls.
package redisbatch
