// Package results reads a campaign's final outcomes back from its ledger,
// where they are kept until the retention with each recipient's own
// template parameters and metadata: filters by status (final or delivery)
// and error code, the JSON Lines and CSV exports of GET
// /v1/campaigns/{id}/results and mmlite campaign results, and the
// recipients of a follow-up campaign. Everything streams: a ledger of
// millions is read a batch at a time.
package results
