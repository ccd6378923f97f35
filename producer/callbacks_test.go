package producer_test

import (
	"errors"
	"testing"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// A campaign's callback_url is refused while callbacks are off (it would
// never be called), and taken once they are on; a results queue turned
// off without callbacks is refused at start.
func TestRegister_CallbackURLNeedsCallbacks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := &campaign.Campaign{ID: "cb", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}},
		CallbackURL: "https://crm.example.com/mmlite"}
	_, err := b.p.Register(b.ctx, c)
	var ve *campaign.ValidationError
	require.True(t, errors.As(err, &ve), "%v", err)
	require.ErrorContains(t, err, "callback_url: callbacks are off: set MMLITE_RESULTS_URL")

	r := redistest.New(t)
	p, err := producer.New(producer.Config{Client: r.Client, Queue: r.Queue, CallbackQueue: r.Queue + "-callbacks"})
	require.NoError(t, err)
	created, err := p.Register(b.ctx, c)
	require.NoError(t, err)
	require.True(t, created)

	_, err = producer.New(producer.Config{Client: r.Client, Queue: r.Queue, NoResultsQueue: true})
	require.ErrorContains(t, err, "MMLITE_RESULTS_QUEUE is empty but MMLITE_RESULTS_URL is not set")
}
