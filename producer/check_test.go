package producer_test

import (
	"errors"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// A dry run accepted campaigns Register refuses (a callback_url while
// callbacks are off, a sender the configuration does not have): Check runs
// Register's checks, reading nothing from Redis.
func TestCheck_RegistersChecksWithoutRedis(t *testing.T) {
	t.Parallel()
	nowhere := asynq.RedisClientOpt{Addr: "127.0.0.1:1"} // a dry run needs no Redis
	p, err := producer.New(producer.Config{Redis: nowhere, Senders: []sender.Published{{ID: "default", Rate: 80}}})
	require.NoError(t, err)
	defer p.Close()
	tmpl := mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}

	require.NoError(t, p.Check(&campaign.Campaign{ID: "ok", Template: tmpl}))

	err = p.Check(&campaign.Campaign{ID: "cb", Template: tmpl, CallbackURL: "https://crm.example.com/mmlite"})
	var ve *campaign.ValidationError
	require.True(t, errors.As(err, &ve), "%v", err)
	require.ErrorContains(t, err, "callback_url: callbacks are off: set MMLITE_RESULTS_URL")

	err = p.Check(&campaign.Campaign{ID: "eu", Sender: "eu", Template: tmpl})
	require.ErrorIs(t, err, producer.ErrUnknownSender)
	require.ErrorContains(t, err, "known: default)")

	err = p.Check(&campaign.Campaign{ID: "bad id", Template: tmpl})
	require.True(t, errors.As(err, &ve), "%v", err)

	// Without a configuration of its own, any sender goes (at the default
	// rate), as in Register before a worker has published its senders.
	open, err := producer.New(producer.Config{Redis: nowhere})
	require.NoError(t, err)
	defer open.Close()
	require.NoError(t, open.Check(&campaign.Campaign{ID: "eu", Sender: "eu", Template: tmpl}))
}
