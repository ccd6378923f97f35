// Package emit puts mmlite's outbound events on the results queue: one
// result per recipient, one event per campaign state, one status task per
// delivery event. A result and a campaign event are emitted once, even when
// a job runs again after the queue's consumer took the first, after a
// crash between two steps, and in Redis Cluster, where the results queue
// lives in another slot than the campaign: a marker in the results queue's
// own slot, written in the same step as the task, remembers what was
// emitted for as long as the campaign can still be worked on.
package emit
