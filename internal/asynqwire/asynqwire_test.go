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
	got, err := Fresh(failed)
	require.NoError(t, err)
	require.Equal(t, msg, got)

	_, err = Fresh(append(msg, 0xff))
	require.Error(t, err, "a message cut short")
}
