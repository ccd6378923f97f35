package producer_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// A campaign's callback_url must name one of the allowed hosts: a token
// holder cannot have mmlite POST to its own ports or the network behind
// it.
func TestRegister_CallbackURLOnAllowedHostsOnly(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	p, err := producer.New(producer.Config{Client: r.Client, Queue: r.Queue, CallbackQueue: r.Queue + "-callbacks",
		CallbackHosts: safeurl.Hosts{"crm.example.com", "127.0.0.1:8080"}})
	require.NoError(t, err)
	for i, tc := range []struct{ url, err string }{
		{"https://crm.example.com:8443/mmlite", ""},
		{"http://127.0.0.1:8080/cb", ""},
		{"http://127.0.0.1:9090/metrics", "callback_url: host 127.0.0.1:9090 is not allowed (MMLITE_CALLBACK_HOSTS)"},
		{"http://localhost:8080/cb", "callback_url: host localhost:8080 is not allowed"},
		{"https://10.0.0.7/internal", "callback_url: host 10.0.0.7:443 is not allowed"},
	} {
		c := &campaign.Campaign{ID: fmt.Sprintf("cb%d", i), Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}},
			CallbackURL: tc.url}
		_, err := p.Register(context.Background(), c)
		if tc.err == "" {
			require.NoError(t, err, tc.url)
			continue
		}
		var ve *campaign.ValidationError
		require.True(t, errors.As(err, &ve), "%s: %v", tc.url, err)
		require.ErrorContains(t, err, tc.err)
	}
}

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
	p, err := producer.New(producer.Config{Client: r.Client, Queue: r.Queue, CallbackQueue: r.Queue + "-callbacks",
		CallbackHosts: safeurl.Hosts{"crm.example.com"}})
	require.NoError(t, err)
	created, err := p.Register(b.ctx, c)
	require.NoError(t, err)
	require.True(t, created)

	_, err = producer.New(producer.Config{Client: r.Client, Queue: r.Queue, NoResultsQueue: true})
	require.ErrorContains(t, err, "MMLITE_RESULTS_QUEUE is empty but MMLITE_RESULTS_URL is not set")
}
