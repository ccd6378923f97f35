package outbound

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/mmlite/mmlite/pkg/task"
)

// Queues and task types.
const (
	// RelayQueuePrefix and the destination's name make its queue.
	RelayQueuePrefix = "mmlite-relay-"
	// CallbackQueue holds the callbacks: the tasks of the results queue
	// (same type, same payload), with CallbackIDPrefix before their id.
	CallbackQueue    = "mmlite-callbacks"
	CallbackIDPrefix = "cb:"
	// TypeRelay is a webhook to relay.
	TypeRelay = "mmlite:relay"
	// MaxRetry is high: a delivery ends at Config.MaxAge (see Server.give).
	// Relay and callback tasks (see emit.Emitter.WithCallbacks) carry it,
	// and TimeoutSec.
	MaxRetry = 100000
	// TimeoutSec bounds one delivery attempt in asynq (the HTTP client's own
	// timeout is shorter).
	TimeoutSec = 120
)

// CallbackQueueOf is the callback queue of the installation whose send
// queue (MMLITE_QUEUE) is queue: CallbackQueue for the default, and
// "<queue>-callbacks" for another, so that two installations on one Redis
// never deliver each other's callbacks.
func CallbackQueueOf(queue string) string { return queuesOf(queue, CallbackQueue, "-callbacks") }

// relayQueuePrefixOf is RelayQueuePrefix for the installation of queue, as
// CallbackQueueOf: "<queue>-relay-" for another than the default.
func relayQueuePrefixOf(queue string) string { return queuesOf(queue, RelayQueuePrefix, "-relay-") }

// queuesOf is the default installation's name for it (the queues above
// are those of task.SendQueue), or another's: its queue then suffix.
func queuesOf(queue, byDefault, suffix string) string {
	if queue == "" || queue == task.SendQueue {
		return byDefault
	}
	return queue + suffix
}

// relayMeta is what a relay task carries besides the body: its payload is
// the meta's JSON, a newline, then the body untouched.
type relayMeta struct {
	ContentType string `json:"ct,omitempty"`
	Signature   string `json:"sig,omitempty"` // the provider's X-Hub-Signature-256
	// Stored is when the webhook was first stored (unix ms), for the age
	// of a delivery that keeps failing (see Server.failed); 0 in a task
	// stored by a version before it was kept.
	Stored int64 `json:"at,omitempty"`
}

func encodeRelay(m relayMeta, body []byte) []byte {
	b, _ := json.Marshal(m) // strings only: cannot fail, and has no newline
	out := make([]byte, 0, len(b)+1+len(body))
	return append(append(append(out, b...), '\n'), body...)
}

func decodeRelay(p []byte) (relayMeta, []byte, error) {
	var m relayMeta
	head, body, ok := bytes.Cut(p, []byte{'\n'})
	if !ok {
		return m, nil, fmt.Errorf("outbound: relay task without its body")
	}
	if err := json.Unmarshal(head, &m); err != nil {
		return m, nil, fmt.Errorf("outbound: relay task: %w", err)
	}
	return m, body, nil
}
