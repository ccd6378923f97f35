// Package store keeps campaigns in Redis: Campaigns (definitions, states
// and control, completion, housekeeping lists), Ledger (one marker per
// recipient, claimed before a send and settled after: what makes a send at
// most once) and Deliveries (webhook statuses mapped back to recipients).
// The three share one connection, key space and retention.
package store
