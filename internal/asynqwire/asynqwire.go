package asynqwire

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
)

const (
	fieldType    = 1
	fieldPayload = 2
	fieldID      = 3
	fieldQueue   = 4
	fieldRetry   = 5
	fieldTimeout = 8
)

// Message encodes an asynq TaskMessage, in field order as proto.Marshal does.
func Message(dst []byte, typ string, payload []byte, id, queue string, retry int, timeoutSec int64) []byte {
	// Room for all of it at once: 4 length-prefixed fields and 2 varints,
	// each with its tag, take at most 10 bytes of overhead apiece.
	dst = slices.Grow(dst, len(typ)+len(payload)+len(id)+len(queue)+6*10)
	dst = protowire.AppendTag(dst, fieldType, protowire.BytesType)
	dst = protowire.AppendString(dst, typ)
	if len(payload) > 0 {
		dst = protowire.AppendTag(dst, fieldPayload, protowire.BytesType)
		dst = protowire.AppendBytes(dst, payload)
	}
	return MessageTail(dst, id, queue, retry, timeoutSec)
}

// MessageHead and MessageTail are what surrounds a payload in its
// Message, for a message put together elsewhere (a Lua script, say):
// Message(nil, typ, p, id, queue, retry, timeoutSec) is MessageHead(typ),
// then the varint len(p), p, and MessageTail(nil, id, queue, retry,
// timeoutSec). The payload must not be empty.
func MessageHead(typ string) []byte {
	dst := protowire.AppendTag(nil, fieldType, protowire.BytesType)
	dst = protowire.AppendString(dst, typ)
	return protowire.AppendTag(dst, fieldPayload, protowire.BytesType)
}

// MessageTail appends the fields that follow the payload (see
// MessageHead).
func MessageTail(dst []byte, id, queue string, retry int, timeoutSec int64) []byte {
	dst = protowire.AppendTag(dst, fieldID, protowire.BytesType)
	dst = protowire.AppendString(dst, id)
	dst = protowire.AppendTag(dst, fieldQueue, protowire.BytesType)
	dst = protowire.AppendString(dst, queue)
	if retry > 0 {
		dst = protowire.AppendTag(dst, fieldRetry, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(retry))
	}
	if timeoutSec > 0 {
		dst = protowire.AppendTag(dst, fieldTimeout, protowire.VarintType)
		dst = protowire.AppendVarint(dst, uint64(timeoutSec))
	}
	return dst
}

// Defaults of asynq's client for a task enqueued without options.
const (
	DefaultMaxRetry   = 25
	DefaultTimeoutSec = 1800
)

// Fields of a task's retry state, which asynq writes as the task fails.
const (
	fieldRetried      = 6
	fieldErrorMsg     = 7
	fieldLastFailedAt = 11
)

// Fresh is msg, an asynq TaskMessage, without its retry state (retries
// done, last error, last failure): as it was enqueued, every other field
// (id, payload, headers, timeout...) unchanged, and its retry limit too
// unless retry is above 0 (a task written before the limit it should have).
func Fresh(msg []byte, retry int) ([]byte, error) {
	out := make([]byte, 0, len(msg))
	for rest := msg; len(rest) > 0; {
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			return nil, fmt.Errorf("asynqwire: task message: %w", protowire.ParseError(n))
		}
		m := protowire.ConsumeFieldValue(num, typ, rest[n:])
		if m < 0 {
			return nil, fmt.Errorf("asynqwire: task message: %w", protowire.ParseError(m))
		}
		if num != fieldRetried && num != fieldErrorMsg && num != fieldLastFailedAt && (retry <= 0 || num != fieldRetry) {
			out = append(out, rest[:n+m]...)
		}
		rest = rest[n+m:]
	}
	if retry > 0 {
		out = protowire.AppendTag(out, fieldRetry, protowire.VarintType)
		out = protowire.AppendVarint(out, uint64(retry))
	}
	return out, nil
}
