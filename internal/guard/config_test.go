package guard_test

import (
	"strconv"
	"testing"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/stretchr/testify/require"
)

// MMLITE_SUPPRESS_CODES takes the codes that end a recipient for good,
// and codes the table does not know; a code the table reads otherwise is
// refused, naming the setting, the code and its class. 130429 for 130472
// suppressed, for ever, every recipient the provider throttled; 131031
// suppressed the recipient instead of pausing the locked account's sender.
func TestConfig_SuppressCodesMustEndTheRecipient(t *testing.T) {
	t.Parallel()
	for _, ok := range [][]int{nil, {131050}, {131050, 131026, 130472}, {131009}, {999999}} {
		require.NoError(t, guard.Config{SuppressCodes: ok}.Validate(), "%v", ok)
	}
	for code, class := range map[int]string{130429: "throughput", 131000: "transient", 131049: "recipient_delay",
		131056: "recipient_delay", 134101: "wait_retry", 131031: "campaign_fatal", 132015: "campaign_fatal", 250: "campaign_fatal"} {
		err := guard.Config{SuppressCodes: []int{131050, code}}.Validate()
		require.Error(t, err, "%d", code)
		require.ErrorContains(t, err, "MMLITE_SUPPRESS_CODES")
		require.ErrorContains(t, err, class)
		require.ErrorContains(t, err, "code "+strconv.Itoa(code))
	}
}

// An MMLITE_SUPPRESS_CODES that replaced the default without keeping
// 131050 (131051 for 131050, or 131026 alone) turned off the opt-out
// list without a word: recipients who stopped marketing messages were
// sent to again in every later campaign (found in review). Such a list is
// taken, and warned of at start.
func TestConfig_WarnsWhenOptOutsAreNotSuppressed(t *testing.T) {
	t.Parallel()
	for _, codes := range [][]int{nil, {131050}, {131026, 131050}} {
		require.Empty(t, guard.Config{SuppressCodes: codes}.Warnings(), "%v", codes)
	}
	w := guard.Config{SuppressCodes: []int{131051}}.Warnings()
	require.Len(t, w, 1)
	require.Contains(t, w[0], "MMLITE_SUPPRESS_CODES")
	require.Contains(t, w[0], "131050")
}
