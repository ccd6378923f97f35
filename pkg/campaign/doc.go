// Package campaign is a campaign as upstream systems hand it in: its
// definition (one template to many recipients), its strict decoding and
// validation, and the status mmlite reports of it (its state, counts and
// seal). How it is kept in Redis is mmlite's own business (internal/store).
package campaign
