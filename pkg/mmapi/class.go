package mmapi

import "strings"

// Class is what an outcome means for the sender. The worker maps each class
// to queue behaviour in one place; this package only decides the class.
type Class uint8

// The classes, from mmlite-api.md.
const (
	// ClassOK: accepted; the answer carries a message id.
	ClassOK Class = iota
	// ClassTransient: not sent; retry with backoff.
	ClassTransient
	// ClassThroughput: the sender is over its throughput; slow the whole
	// sender down and try again without spending a retry.
	ClassThroughput
	// ClassRecipientDelay: only this recipient must wait (pair rate 131056,
	// per-user marketing cap 131049).
	ClassRecipientDelay
	// ClassWaitRetry: wait minutes, then retry (template still syncing).
	ClassWaitRetry
	// ClassPermanent: never retry this recipient.
	ClassPermanent
	// ClassCampaignFatal: every further send of the campaign or sender
	// would fail the same way (bad key, template missing, account locked).
	ClassCampaignFatal
	// ClassAmbiguous: the request may have been sent; the outcome is unknown.
	ClassAmbiguous
)

var classNames = [...]string{"ok", "transient", "throughput", "recipient_delay", "wait_retry", "permanent", "campaign_fatal", "ambiguous"}

// Classes lists every class, for pre-creating metric labels.
func Classes() []Class {
	out := make([]Class, len(classNames))
	for i := range out {
		out[i] = Class(i)
	}
	return out
}

// String returns the snake_case name used in metrics and logs.
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "unknown"
}

// codeClasses is the classification table: Meta error code to class.
// Codes 200-299 (permissions) are fatal too; see ClassOfCode.
var codeClasses = map[int]Class{
	// transient: retry with backoff
	1: ClassTransient, 2: ClassTransient, 131000: ClassTransient, 131016: ClassTransient,
	131057: ClassTransient, 133004: ClassTransient,
	// throughput: slow the sender down, no retry spent
	4: ClassThroughput, 80007: ClassThroughput, 130429: ClassThroughput,
	// per recipient: delay only that recipient
	131056: ClassRecipientDelay, 131049: ClassRecipientDelay,
	// wait, then retry (131009 only when its details speak of the template; see classify)
	134101: ClassWaitRetry,
	// permanent for the recipient
	100: ClassPermanent, 131008: ClassPermanent, 131009: ClassPermanent, 131021: ClassPermanent,
	131026: ClassPermanent, 131050: ClassPermanent, 131051: ClassPermanent, 131052: ClassPermanent,
	131053: ClassPermanent, 130472: ClassPermanent, 132000: ClassPermanent, 132005: ClassPermanent,
	132007: ClassPermanent, 132012: ClassPermanent, 132018: ClassPermanent, 131062: ClassPermanent,
	135000: ClassPermanent,
	// fatal for the campaign or sender
	0: ClassCampaignFatal, 190: ClassCampaignFatal, 401: ClassCampaignFatal, 3: ClassCampaignFatal,
	10: ClassCampaignFatal, 131005: ClassCampaignFatal, 131031: ClassCampaignFatal,
	131042: ClassCampaignFatal, 368: ClassCampaignFatal, 130497: ClassCampaignFatal,
	133010: ClassCampaignFatal, 132001: ClassCampaignFatal, 132015: ClassCampaignFatal,
	132016: ClassCampaignFatal, 131055: ClassCampaignFatal, 134100: ClassCampaignFatal,
	134102: ClassCampaignFatal,
}

// rateLimitText is 360dialog's throughput answer; it is matched in any
// envelope because 360dialog sends it as a plain 400.
const rateLimitText = "exceeded the endpoint rate limit"

// classify decides an error answer's class: the 360dialog rate-limit text
// first, then the Meta code (and, for 131009, its details), then the HTTP
// status for answers without a known code. A 5xx is transient only when it
// carries the provider's error code, which proves the provider refused the
// message; without one it may come from a gateway that had already
// forwarded the request (a 502 or 504, an HTML page), so at most once makes
// it ambiguous.
func classify(e *Error) Class {
	switch {
	case e.HTTPStatus >= 200 && e.HTTPStatus < 300:
		return ClassAmbiguous // accepted, but no message id came back, whatever the body says
	case e.rateLimited:
		return ClassThroughput
	case e.HasCode && e.Code == 131009 && strings.Contains(strings.ToLower(e.Details), "template"):
		return ClassWaitRetry
	}
	if e.HasCode {
		if c, ok := ClassOfCode(e.Code); ok {
			return c
		}
		if e.isTransient {
			return ClassTransient
		}
	}
	s := e.HTTPStatus
	switch {
	case s == 429:
		return ClassThroughput
	case s == 401 || s == 403 || s == 404, s >= 300 && s < 400:
		// A redirect (not followed, see NewClient) says the base URL is
		// not the API's: every send would meet it.
		return ClassCampaignFatal
	case s == 408 || (s >= 500 && e.HasCode):
		return ClassTransient
	case s >= 500:
		return ClassAmbiguous
	}
	return ClassPermanent
}

// ClassOfCode is the class the table gives a Meta error code alone (131009
// counts as permanent: its template case depends on the answer's details);
// false for a code the table does not list.
func ClassOfCode(code int) (Class, bool) {
	if code >= 200 && code <= 299 {
		return ClassCampaignFatal, true
	}
	c, ok := codeClasses[code]
	return c, ok
}

// classMeanings say, per class, what the worker does with such an answer
// (docs/errors.md has the full table).
var classMeanings = [...]string{
	ClassOK:             "accepted: the answer carries a message id",
	ClassTransient:      "not sent: retried with backoff; failed when the retries run out",
	ClassThroughput:     "the sender is over its throughput: slowed down and retried without spending a retry",
	ClassRecipientDelay: "only this recipient waits (pair rate, per-user marketing cap), then fails",
	ClassWaitRetry:      "retried after about 10 minutes (template still syncing)",
	ClassPermanent:      "never retried for this recipient",
	ClassCampaignFatal:  "every further send would fail the same way: the campaign is paused",
	ClassAmbiguous:      "the request may have been sent: the outcome is unknown, never resent",
}

// Meaning says in words what the class means for the sender.
func (c Class) Meaning() string {
	if int(c) < len(classMeanings) {
		return classMeanings[c]
	}
	return ""
}

// Guard is what an error says about the sender beyond the one message (see
// docs/errors.md#protection): which protection it sets off.
type Guard uint8

// The guards.
const (
	GuardNone     Guard = iota
	GuardCooldown       // the recipient must not be sent marketing messages for a while (131049)
	GuardTemplate       // the template is paused or disabled (132015, 132016)
	GuardSender         // the account cannot send at all (131031, 131042, 190, 401, 368)
)

// codeGuards is the classification table's protection column: the codes
// whose class alone does not say what the sender must do next. Suppression
// codes are the operator's choice (MMLITE_SUPPRESS_CODES).
var codeGuards = map[int]Guard{
	131049: GuardCooldown,
	132015: GuardTemplate, 132016: GuardTemplate,
	131031: GuardSender, 131042: GuardSender, 190: GuardSender, 401: GuardSender, 368: GuardSender,
}

// GuardOf is the protection a code sets off; httpStatus 401 without a
// known code is a bad key, the sender's.
func GuardOf(code, httpStatus int) Guard {
	if g, ok := codeGuards[code]; ok {
		return g
	}
	if httpStatus == 401 && code == 0 {
		return GuardSender
	}
	return GuardNone
}
