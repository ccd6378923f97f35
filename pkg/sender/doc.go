// Package sender describes who sends: one WhatsApp business number with its
// provider, endpoint, key and fleet-wide rate. Senders come from a YAML file
// (MMLITE_SENDERS_FILE) or, for the single sender "default", from
// MMLITE_API_KEY, MMLITE_RATE and MMLITE_API_BASE_URL. Keys are read from an
// environment variable or a file, never written inline, and never printed.
package sender
