package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// A cursor whose time is NaN or infinite is a 400 like any garbled cursor
// (on a real Redis it was a 500: Redis refuses such a score bound).
func TestListCampaigns_CursorWithoutAFiniteTimeIs400(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for _, score := range []string{"", "NaN", "+Inf", "-Inf"} {
		cur := base64.RawURLEncoding.EncodeToString([]byte(score + "\nx"))
		a := b.do(t, "GET", "/v1/campaigns?cursor="+cur, "", "")
		require.Equal(t, 400, a.code, "%q: %s", score, a.raw)
		require.Equal(t, fmt.Sprintf("cursor %q is not one a previous page gave: start again without it", cur), a.body["error"], score)
	}
}
