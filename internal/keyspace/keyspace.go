package keyspace

// Space is the set of keys of one mmlite installation (one send queue).
type Space struct {
	queue string
	pre   string // "mmlite:{queue}:"
	asynq string // "asynq:{queue}:"
}

// New returns the key space of the given send queue.
func New(queue string) Space {
	return Space{queue: queue, pre: "mmlite:{" + queue + "}:", asynq: "asynq:{" + queue + "}:"}
}

// Queue is the send queue's name.
func (s Space) Queue() string { return s.queue }

// Prefix is what every mmlite key of this space starts with.
func (s Space) Prefix() string { return s.pre }

// Campaign is the hash of one campaign: definition, state and counts.
func (s Space) Campaign(id string) string { return s.pre + "campaign:" + id }

// CallbackURL is a campaign's own callback_url, kept longer than its
// other keys (see store.CallbackURLMargin): its callbacks may still wait
// or be replayed once they expired.
func (s Space) CallbackURL(id string) string { return s.pre + "callback-url:" + id }

// EnqueueAnswer keeps the answer of one batch of an enqueue for a short
// while (see producer's enqueueScript): a batch sent again after its reply
// was lost gets it rather than finding its own jobs duplicates.
func (s Space) EnqueueAnswer(batch string) string { return s.pre + "enqueue-answer:" + batch }

// Ledger is the hash of one campaign's per-recipient send markers.
func (s Space) Ledger(id string) string { return s.pre + "ledger:" + id }

// Parked is the sorted set of a paused campaign's recipients whose jobs were
// put aside (asleep in asynq's retry set) and wait to be resumed, by the
// time they were put aside. Retry backoffs and per-recipient delays are not
// in it: a resume brings back only these.
func (s Space) Parked(id string) string { return s.pre + "parked:" + id }

// Parking is the set of campaigns that have parked jobs, for the workers'
// housekeeping to bring them back once the campaign runs or is cancelled.
func (s Space) Parking() string { return s.pre + "parking" }

// Announce is the set of campaigns whose new state (completed, finished
// after a cancel, paused automatically) still has to be announced.
func (s Space) Announce() string { return s.pre + "announce" }

// Retire is the sorted set of campaigns by the time (unix ms) their keys
// expire, after which they leave the Campaigns index.
func (s Space) Retire() string { return s.pre + "retire" }

// Cancelling is the set of cancelled campaigns whose remaining jobs may
// still wait at their slots: the workers' housekeeping makes them due
// until none can be left (see store.Campaigns.FinishCancel).
func (s Space) Cancelling() string { return s.pre + "cancelling" }

// Onboarding is the set of campaigns paused until a WABA signs the MM Lite terms.
func (s Space) Onboarding(waba string) string { return s.pre + "onboarding:" + waba }

// WaitLists is the set of the lists of waiting campaigns (Onboarding,
// GuardPaused) that may hold one: those a campaign is taken off when its
// wait ends otherwise than by the lift of the condition (see
// store.Campaigns.Cancel).
func (s Space) WaitLists() string { return s.pre + "waitlists" }

// WABAs is the hash of onboarded WABAs: id to the time they signed.
func (s Space) WABAs() string { return s.pre + "wabas" }

// Emitted is the hash of the events of one campaign already put on the
// results queue (by task id), in the results queue's own key space: it
// makes every result and campaign event single, even after its consumer
// took the task.
func (s Space) Emitted(campaign string) string { return s.pre + "emitted:" + campaign }

// Failing is the sorted set of an outbound queue's deliveries that failed
// and wait for another attempt, by when they were first stored (unix ms),
// in the outbound queue's own key space: the age of its oldest waiting
// delivery (see outbound.Backlog).
func (s Space) Failing() string { return s.pre + "failing" }

// Janitor is the lock that lets one worker at a time do the fleet's housekeeping.
func (s Space) Janitor() string { return s.pre + "janitor" }

// WAMID maps a sent message id back to its campaign and recipient.
func (s Space) WAMID(wamid string) string { return s.pre + "wamid:" + wamid }

// Unknown is the hash of the attempts whose outcome is unknown, from one
// business number (phone number id) to one recipient, by campaign: what a
// status webhook for a message mmlite does not know is matched against.
func (s Space) Unknown(phoneNumberID, to string) string {
	return s.pre + "unknown:" + phoneNumberID + ":" + to
}

// Unmatched is the hash of the statuses of messages mmlite does not know
// (their wamid maps to no recipient), from one business number to one
// recipient: the message of an attempt not yet reported unknown.
func (s Space) Unmatched(phoneNumberID, to string) string {
	return s.pre + "unmatched:" + phoneNumberID + ":" + to
}

// Unknowns is the sorted set of (phone number id, recipient) pairs with
// unknown attempts, by when they are next to be matched (unix ms).
func (s Space) Unknowns() string { return s.pre + "unknowns" }

// Replays is the hash of the unknown outcomes resolved whose resolution
// event and earlier statuses are yet to be counted and emitted, and of the
// sends whose statuses came before they were recorded, by
// "campaign\nrecipient": kept in the step that resolves (or records) them,
// dropped once done, so that a worker dying in between loses nothing.
func (s Space) Replays() string { return s.pre + "replays" }

// TestSent marks a test send (by its task id) whose call was made: a run
// of it taken over later (a lost lease) does not send it again.
func (s Space) TestSent(taskID string) string { return s.pre + "testsent:" + taskID }

// Campaigns is the sorted set of campaign ids by creation time.
func (s Space) Campaigns() string { return s.pre + "campaigns" }

// Senders is the hash of sender settings published by workers (rate, burst).
func (s Space) Senders() string { return s.pre + "senders" }

// Clock is a sender's pacing clock: the next free send slot.
func (s Space) Clock(sender string) string { return s.pre + "clock:" + sender }

// Limit is a sender's fleet-wide rate limiter state.
func (s Space) Limit(sender string) string { return s.pre + "limit:" + sender }

// Backoff is a sender's shared backoff after provider throttling: its
// reduced rate and the time before which it may not send ("hold", unix ms).
func (s Space) Backoff(sender string) string { return s.Limit(sender) + ":backoff" }

// Workers is the sorted set of live workers by their last sign of life.
func (s Space) Workers() string { return s.pre + "workers" }

// AsynqTask is asynq's hash of one task of the queue.
func (s Space) AsynqTask(id string) string { return s.asynq + "t:" + id }

// AsynqTaskPrefix is AsynqTask without the id, for Lua scripts.
func (s Space) AsynqTaskPrefix() string { return s.asynq + "t:" }

// AsynqPending is asynq's list of the queue's pending task ids.
func (s Space) AsynqPending() string { return s.asynq + "pending" }

// AsynqActive is asynq's list of the queue's running task ids.
func (s Space) AsynqActive() string { return s.asynq + "active" }

// AsynqLease is asynq's sorted set of running task ids by lease expiry.
func (s Space) AsynqLease() string { return s.asynq + "lease" }

// AsynqScheduled is asynq's sorted set of the queue's scheduled task ids.
func (s Space) AsynqScheduled() string { return s.asynq + "scheduled" }

// AsynqRetry is asynq's sorted set of the queue's tasks waiting to retry.
// A script that takes it finds the task hashes by replacing its last word
// with "t:" (see AsynqTaskPrefix).
func (s Space) AsynqRetry() string { return s.asynq + "retry" }

// AsynqArchived is asynq's sorted set of the queue's archived task ids.
func (s Space) AsynqArchived() string { return s.asynq + "archived" }

// AsynqCompleted is asynq's sorted set of the queue's completed task ids
// (kept for their retention).
func (s Space) AsynqCompleted() string { return s.asynq + "completed" }

// AsynqPaused exists while the queue is paused.
func (s Space) AsynqPaused() string { return s.asynq + "paused" }

// AsynqProcessed and AsynqFailed are asynq's all-time counters of the
// queue's processed and failed tasks.
func (s Space) AsynqProcessed() string { return s.asynq + "processed" }
func (s Space) AsynqFailed() string    { return s.asynq + "failed" }

// AsynqQueues is asynq's set of all queue names.
const AsynqQueues = "asynq:queues"
