// Package asynqwire writes tasks in asynq's own storage format, so that
// mmlite's Lua scripts can create them together with other writes: a whole
// batch of send jobs in one call (the producer), or a result in the same
// atomic step that records the outcome (the worker). asynq keeps a task as
// a protobuf TaskMessage in the hash asynq:{queue}:t:<id>. The fields
// written are the ones asynq's own client sets for a task without deadline,
// uniqueness or group; tests compare the bytes with asynq's client and run
// the tasks on an asynq Server, so that an asynq upgrade that changed the
// format would fail CI. Fresh rewrites a stored task as it was enqueued,
// for a replay that starts it afresh.
package asynqwire
