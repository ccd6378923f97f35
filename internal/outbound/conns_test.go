package outbound_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/stretchr/testify/require"
)

// The deliveries went over net/http's default transport, which keeps 2
// idle connections a host: of 10 POSTs at once to a destination, 8
// connections were closed as they ended and dialled again for the next
// ones (a TLS handshake a delivery, and sockets in TIME_WAIT by the
// thousand at the relay's volume). A destination's connections are kept
// for all its slots.
func TestRelay_ConnectionsAreReused(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	const conc, waves = 10, 8
	var dialled atomic.Int64
	var mu sync.Mutex
	inFlight, release := 0, make(chan struct{})
	dest := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// Answer in waves of conc POSTs at once, every slot busy.
		mu.Lock()
		wave := release
		if inFlight++; inFlight == conc {
			inFlight, release = 0, make(chan struct{})
			close(wave)
		}
		mu.Unlock()
		select {
		case <-wave:
		case <-time.After(2 * time.Second): // a last wave short of conc
		}
	}))
	dest.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			dialled.Add(1)
		}
	}
	dest.Start()
	t.Cleanup(dest.Close)
	ds, err := destinations(t, "destinations:\n  - name: "+name(t)+"\n    url: "+dest.URL+"\n    secret_env: S\n", map[string]string{"S": "s"})
	require.NoError(t, err)
	dropQueues(t, r, ds[0].Queue())
	relay := outbound.NewRelay(r.Client, ds)
	for i := range conc * waves {
		require.NoError(t, relay.Store(context.Background(), fmt.Appendf(nil, `{"n":%d}`, i), http.Header{}, nil))
	}
	_, reg := serve(t, r, outbound.Config{Destinations: ds, Concurrency: conc})
	require.Eventually(t, func() bool {
		return testkit.Counters(t, reg, "mmlite_outbound_delivered_total")[ds[0].Name] == conc*waves
	}, 30*time.Second, 20*time.Millisecond)
	require.LessOrEqual(t, dialled.Load(), int64(2*conc), "connections dialled for %d deliveries, %d at once", conc*waves, conc)
}
