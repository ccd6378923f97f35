package asynqwire

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// Fresh drops what asynq writes as a task fails, wherever it is, and keeps
// the rest byte for byte.
func TestFresh(t *testing.T) {
	t.Parallel()
	msg := Message(nil, "mmlite:relay", []byte("p"), "id", "q", 100000, 120)
	failed := protowire.AppendTag(append([]byte(nil), msg...), fieldRetried, protowire.VarintType)
	failed = protowire.AppendVarint(failed, 7)
	failed = protowire.AppendTag(failed, fieldErrorMsg, protowire.BytesType)
	failed = protowire.AppendString(failed, "answered HTTP 503")
	failed = protowire.AppendTag(failed, fieldLastFailedAt, protowire.VarintType)
	failed = protowire.AppendVarint(failed, 1700000000)
	got, err := Fresh(failed, 0)
	require.NoError(t, err)
	require.Equal(t, msg, got)

	// A task written with asynq's default limit gets the one given.
	old := Message(nil, "mmlite:result", []byte("p"), "id", "q", DefaultMaxRetry, 120)
	got, err = Fresh(old, 100000)
	require.NoError(t, err)
	require.Equal(t, []uint64{100000}, varints(t, got, fieldRetry))

	_, err = Fresh(append(msg, 0xff), 0)
	require.Error(t, err, "a message cut short")
}

// varints are the values of a message's varint field num.
func varints(t *testing.T, msg []byte, num protowire.Number) []uint64 {
	t.Helper()
	var out []uint64
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		require.GreaterOrEqual(t, l, 0)
		m := protowire.ConsumeFieldValue(n, typ, msg[l:])
		require.GreaterOrEqual(t, m, 0)
		if n == num && typ == protowire.VarintType {
			v, _ := protowire.ConsumeVarint(msg[l:])
			out = append(out, v)
		}
		msg = msg[l+m:]
	}
	return out
}
