// Package safeurl checks the URLs mmlite POSTs to on the team's behalf
// (relay destinations, MMLITE_RESULTS_URL, a campaign's callback_url):
// https://, or http:// on a loopback address only; and redacts URLs for
// error messages.
package safeurl
