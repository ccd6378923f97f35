package console

import (
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/mmlite/mmlite/internal/clientip"
	"golang.org/x/time/rate"
)

// Wrong tokens on the login form are limited per client, so that the token
// cannot be guessed at the server's speed: a burst of loginBurst, then one
// every loginEvery. A client over its limit is answered 429 whatever token
// it sends, the right one too: checking it would let the guessing go on.
// A login that succeeds spends nothing. The client is the connection's
// address (r.RemoteAddr), never a header such as X-Forwarded-For that the
// client writes itself, except where the connection comes from a proxy the
// operator trusts (Config.TrustedProxies); an IPv6 client is its /64, the
// block one host is usually given.
const (
	loginBurst = 10
	loginEvery = 12 * time.Second // 5 a minute
	// loginIdle is how long a client's limiter takes to fill again: one
	// idle that long is a new one, and forgetting it loses nothing.
	loginIdle = loginBurst * loginEvery
	// loginMaxClients bounds the clients remembered.
	loginMaxClients = 10000
)

// loginLimiter is the limiters of the clients that tried to log in.
type loginLimiter struct {
	mu      sync.Mutex
	max     int
	clients map[string]*loginClient
}

type loginClient struct {
	lim *rate.Limiter
	// pending counts the attempts being checked: each holds a token that
	// only a wrong token spends, so that concurrent guesses cannot overdraw.
	pending int
	last    time.Time
}

func newLoginLimiter(maxClients int) *loginLimiter {
	return &loginLimiter{max: maxClients, clients: map[string]*loginClient{}}
}

// begin starts an attempt of client at now. Refused, it returns how long
// the client must wait; let through, a func to call, at the attempt's
// end, with whether the token was wrong.
func (l *loginLimiter) begin(client string, now time.Time) (done func(wrong bool, at time.Time), wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clients[client]
	if c == nil {
		l.evict(now)
		c = &loginClient{lim: rate.NewLimiter(rate.Every(loginEvery), loginBurst)}
		l.clients[client] = c
	}
	c.last = now
	if short := 1 + float64(c.pending) - c.lim.TokensAt(now); short > 0 {
		return nil, time.Duration(short * float64(loginEvery))
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

// evict makes room for a client: it forgets the idle clients, or when none
// is, the one that tried longest ago (which then gets a new burst: the
// price of a bound, paid only by an attacker with that many addresses).
func (l *loginLimiter) evict(now time.Time) {
	if len(l.clients) < l.max {
		return
	}
	var oldest string
	for k, c := range l.clients {
		switch {
		case c.pending > 0:
		case now.Sub(c.last) >= loginIdle:
			delete(l.clients, k)
		case oldest == "" || c.last.Before(l.clients[oldest].last):
			oldest = k
		}
	}
	if len(l.clients) >= l.max && oldest != "" {
		delete(l.clients, oldest)
	}
}

// loginClientOf is the client of a login: its IP address (see
// clientip.Proxies.Of: the connection's, or behind trusted proxies the one
// they forward), an IPv6 one's /64.
func loginClientOf(r *http.Request, proxies clientip.Proxies) string {
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

// retryAfter is a wait in whole seconds, at least 1, for Retry-After.
func retryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
