// Package asynqlog routes asynq's own log lines to slog, for every asynq
// server mmlite runs (the worker's dequeuers, the outbound deliveries):
// phone numbers in task ids are masked, and the warnings that report
// nothing wrong are demoted to debug.
package asynqlog
