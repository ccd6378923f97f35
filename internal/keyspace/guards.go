package keyspace

// Keys of the protections (see package guard). A scope is a WhatsApp
// Business Account id, or a sender id when the sender has none; a limit
// scope is a business portfolio id, or a sender id.

// Suppressed is the hash of a scope's suppression list: recipient to the
// entry (JSON: reason, code, source, at).
func (s Space) Suppressed(scope string) string { return s.pre + "suppressed:" + scope }

// Suppressions is the set of scopes that have a suppression list.
func (s Space) Suppressions() string { return s.pre + "suppressions" }

// Cooldown is the sorted set of a scope's recipients in cooldown, by when
// it began (unix ms): the reader's configured cooldown says when it ends.
func (s Space) Cooldown(scope string) string { return s.pre + "cooldown:" + scope }

// SenderGuard is the hash of a sender's guard state: paused_reason,
// paused_at (unix ms), paused_by; empty when it may send.
func (s Space) SenderGuard(sender string) string { return s.pre + "sender:" + sender }

// GuardPaused is the set of campaigns a guard paused (kind "sender" or
// "template", id the sender or "waba\x1ftemplate\x1flanguage"): what
// resuming the guard resumes.
func (s Space) GuardPaused(kind, id string) string { return s.pre + "guardpaused:" + kind + ":" + id }

// TemplateGuard is a paused template's pause reason (id
// "waba\x1fname\x1flanguage"), for a while: a campaign of the template
// registered meanwhile starts paused.
func (s Space) TemplateGuard(id string) string { return s.pre + "templateguard:" + id }

// TemplateScanned marks a paused template (id as TemplateGuard's) whose
// running campaigns were read and paused under its hold: answers that
// follow pause only their own campaign (see guard.PauseTemplateOf).
func (s Space) TemplateScanned(id string) string { return s.pre + "templatescanned:" + id }

// Reach is the sorted set of the recipients a limit scope reached, by when
// it last reached them (unix ms; + 0.5 for a claim that took a new place):
// those of the last 24 hours count against its messaging limit.
func (s Space) Reach(limitScope string) string { return s.pre + "reach:" + limitScope }

// LimitWaiters is the sorted set of the send jobs (asynq task ids) of a
// limit scope that the messaging limit holds, by when they began to wait
// (unix ms): a place given back wakes the first, whose score it negates
// until the job runs (see store's luaFreePlace).
func (s Space) LimitWaiters(limitScope string) string { return s.pre + "limitwait:" + limitScope }

// Limits is the hash of messaging limits learnt from webhooks: limit scope
// to the limit (0 unlimited); it overrides the senders file.
func (s Space) Limits() string { return s.pre + "limits" }

// GuardEvent is when the last webhook event acted on for a subject
// ("template:<id as TemplateGuard's>", "limit:<limit scope>") happened
// (unix ms), for a while: an older copy delivered again is not acted on.
func (s Space) GuardEvent(subject string) string { return s.pre + "guardevent:" + subject }
