package producer

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// asynq keeps a task as a protobuf TaskMessage in the hash
// asynq:{queue}:t:<id>. The producer writes that message itself so that a
// whole batch of tasks goes to Redis in one script call; asynq's client
// offers one round trip per task. The fields written are the ones asynq's
// own client sets for a task without deadline, uniqueness or group; the
// tests read the tasks back through asynq's Inspector and process them with
// an asynq Server, so that an asynq upgrade that changes the format fails CI.
const (
	fieldType    = 1
	fieldPayload = 2
	fieldID      = 3
	fieldQueue   = 4
	fieldRetry   = 5
	fieldTimeout = 8
)

// taskMessage encodes an asynq TaskMessage, in field order as proto.Marshal does.
func taskMessage(dst []byte, typ string, payload []byte, id, queue string, retry int, timeoutSec int64) []byte {
	dst = protowire.AppendTag(dst, fieldType, protowire.BytesType)
	dst = protowire.AppendString(dst, typ)
	if len(payload) > 0 {
		dst = protowire.AppendTag(dst, fieldPayload, protowire.BytesType)
		dst = protowire.AppendBytes(dst, payload)
	}
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
