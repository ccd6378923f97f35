// Package progress shows a campaign's progress in a terminal: a live line
// while it runs, and tables of outcomes when it is over. The demo and
// `mmlite campaign status --watch` use it.
package progress
