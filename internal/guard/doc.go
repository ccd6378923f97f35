// Package guard keeps a sender out of Meta's walls across campaigns: the
// suppression list and per-recipient cooldowns of a WhatsApp Business
// Account, the sender and template guards that pause every campaign an
// account-wide condition or a paused template would make fail, and the
// messaging limit of a business portfolio. Everything lives in Redis,
// fleet-wide; the send path reads it in its claim (see store.ClaimGuard),
// without a round trip of its own.
package guard
