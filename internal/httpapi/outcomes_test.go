package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/stretchr/testify/require"
)

// A results export that breaks off once rows are written is cut short,
// never answered as if it were whole. Real Redis only: the embedded one
// answers HSCAN in one batch, so nothing breaks off mid-way there.
func TestResults_BrokenOffExportIsCutShort(t *testing.T) {
	redistest.SkipUnlessReal(t)
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c, err := campaign.Decode([]byte(campaignJSON))
	require.NoError(t, err)
	_, err = b.p.Register(ctx, c)
	require.NoError(t, err)
	ledger := b.r.Keys.Ledger(c.ID)
	for i := range 3000 {
		require.NoError(t, b.r.Client.HSet(ctx, ledger, fmt.Sprint(447700000000+i), `F{"st":"sent","a":1,"t":1796306544000,"w":"wamid.x"}`).Err())
	}
	// Break a marker that the export's first batch does not hold.
	first, _, err := b.r.Client.HScan(ctx, ledger, 0, "", 500).Result()
	require.NoError(t, err)
	inFirst := map[string]bool{}
	for i := 0; i < len(first); i += 2 {
		inFirst[first[i]] = true
	}
	broken := ""
	for i := range 3000 {
		if k := fmt.Sprint(447700000000 + i); !inFirst[k] {
			broken = k
			break
		}
	}
	require.NotEmpty(t, broken)
	require.NoError(t, b.r.Client.HSet(ctx, ledger, broken, `F{"st":`).Err())

	req, err := http.NewRequest("GET", b.srv.URL+"/v1/campaigns/"+c.ID+"/results", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "rows were written before the broken marker")
	_, err = io.ReadAll(resp.Body)
	require.Error(t, err, "the client sees the answer cut short")
}
