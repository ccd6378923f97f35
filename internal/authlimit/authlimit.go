// Package authlimit limits wrong tokens per client, so that the api's
// token cannot be guessed at the server's speed: a burst of Burst, then one
// every Every. The console's login form and the /v1 bearer check share one
// Limiter, so that guessing on one does not go round the other. A client
// over its limit is answered 429 whatever token it sends, the right one
// too: checking it would let the guessing go on. A right token spends
// nothing.
//
// The client is the connection's address (r.RemoteAddr), never a header
// such as X-Forwarded-For that the client writes itself, except where the
// connection comes from a proxy the operator trusts (clientip.Proxies); an
// IPv6 client is its /64, the block one host is usually given.
package authlimit

import (
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/mmlite/mmlite/internal/clientip"
	"golang.org/x/time/rate"
)

const (
	Burst = 10
	Every = 12 * time.Second // 5 a minute
	// Idle is how long a client's allowance takes to fill again: one idle
	// that long is a new one, and forgetting it loses nothing.
	Idle = Burst * Every
	// MaxClients bounds the clients remembered.
	MaxClients = 10000
)

// Limiter is the allowances of the clients that sent a token.
type Limiter struct {
	mu      sync.Mutex
	max     int
	clients map[string]*client
}

type client struct {
	lim *rate.Limiter
	// pending counts the attempts being checked by Begin: each holds a
	// token that only a wrong token spends, so that concurrent guesses
	// cannot overdraw.
	pending int
	last    time.Time
}

// New returns a limiter that remembers at most maxClients clients.
func New(maxClients int) *Limiter {
	return &Limiter{max: maxClients, clients: map[string]*client{}}
}

// Begin starts an attempt of client at now, for a check that takes a while
// (the login form's). Refused, it returns how long the client must wait;
// let through, a func to call, at the attempt's end, with whether the
// token was wrong.
func (l *Limiter) Begin(client string, now time.Time) (done func(wrong bool, at time.Time), wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.client(client, now)
	if wait := c.short(now, c.pending); wait > 0 {
		return nil, wait
	}
	c.pending++
	return func(wrong bool, at time.Time) {
		l.mu.Lock()
		defer l.mu.Unlock()
		c.pending--
		if wrong {
			c.lim.AllowN(at, 1)
		}
	}, 0
}

// Check is Begin and its end in one, for a token already compared (a
// bearer token, compared in constant time): a wrong one spends one of
// client's allowance. It returns how long the client must wait, 0 when
// its token may be answered (right, or wrong: a 401).
func (l *Limiter) Check(name string, now time.Time, wrong bool) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !wrong {
		if c := l.clients[name]; c != nil {
			return c.short(now, c.pending)
		}
		return 0 // a client that sent no wrong token lately is not remembered
	}
	c := l.client(name, now)
	if wait := c.short(now, c.pending); wait > 0 {
		return wait
	}
	c.lim.AllowN(now, 1)
	return 0
}

// client returns the allowance of name, made at its first attempt.
func (l *Limiter) client(name string, now time.Time) *client {
	c := l.clients[name]
	if c == nil {
		l.evict(now)
		c = &client{lim: rate.NewLimiter(rate.Every(Every), Burst)}
		l.clients[name] = c
	}
	c.last = now
	return c
}

// short is how long c must wait before one more attempt, beyond the
// pending ones; 0 when it may make it.
func (c *client) short(now time.Time, pending int) time.Duration {
	if short := 1 + float64(pending) - c.lim.TokensAt(now); short > 0 {
		return time.Duration(short * float64(Every))
	}
	return 0
}

// evict makes room for a client: it forgets the idle clients, or when none
// is, the one that tried longest ago (which then gets a new burst: the
// price of a bound, paid only by an attacker with that many addresses).
func (l *Limiter) evict(now time.Time) {
	if len(l.clients) < l.max {
		return
	}
	var oldest string
	for k, c := range l.clients {
		switch {
		case c.pending > 0:
		case now.Sub(c.last) >= Idle:
			delete(l.clients, k)
		case oldest == "" || c.last.Before(l.clients[oldest].last):
			oldest = k
		}
	}
	if len(l.clients) >= l.max && oldest != "" {
		delete(l.clients, oldest)
	}
}

// ClientOf is the client of a request: its IP address (see
// clientip.Proxies.Of: the connection's, or behind trusted proxies the one
// they forward), an IPv6 one's /64.
func ClientOf(r *http.Request, proxies clientip.Proxies) string {
	ip, host, ok := proxies.Of(r)
	if !ok {
		return host
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// RetryAfter is a wait in whole seconds, at least 1, for Retry-After.
func RetryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
