// Package ratelimit hands out send slots per sender, so that a sender never
// exceeds its throughput, and slows a sender down when the provider says it
// is over its limit.
package ratelimit
