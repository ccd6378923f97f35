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
