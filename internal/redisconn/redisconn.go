package redisconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/redis/go-redis/v9"
)

// Parse reads a Redis URL. poolSize sets the connection pool (0 = default).
func Parse(raw string, poolSize int) (asynq.RedisConnOpt, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, parseErr(raw)
	}
	switch u.Scheme {
	case "redis", "rediss", "redis-sentinel", "redis-cluster":
	default:
		return nil, fmt.Errorf("unsupported scheme %q in MMLITE_REDIS_URL: want redis, rediss, redis-sentinel or redis-cluster", u.Scheme)
	}
	if atAfterHost(u) {
		return nil, errAtAfterHost
	}
	user := u.User.Username()
	pass, _ := u.User.Password()
	q := u.Query()
	if err := checkQuery(u.Scheme, q); err != nil {
		return nil, err
	}
	addrs, err := hosts(u.Host)
	if err != nil {
		return nil, err
	}
	var tlsConf *tls.Config
	if u.Scheme == "rediss" || q.Get("tls") == "true" {
		// With several hosts the name is left empty: each connection then
		// verifies the host it dials.
		tlsConf = &tls.Config{MinVersion: tls.VersionTLS12}
		if len(addrs) == 1 {
			tlsConf.ServerName, _, _ = net.SplitHostPort(addrs[0])
		}
	}
	switch u.Scheme {
	case "redis", "rediss":
		if len(addrs) != 1 {
			return nil, fmt.Errorf("MMLITE_REDIS_URL: %s:// takes one host, got %d (use redis-sentinel:// or redis-cluster://)", u.Scheme, len(addrs))
		}
		db, err := dbNumber(u.Path)
		if err != nil {
			return nil, err
		}
		return asynq.RedisClientOpt{Addr: addrs[0], Username: user, Password: pass, DB: db, TLSConfig: tlsConf, PoolSize: poolSize}, nil
	case "redis-sentinel":
		db, err := dbNumber(u.Path)
		if err != nil {
			return nil, err
		}
		if q.Get("master") == "" {
			return nil, fmt.Errorf("MMLITE_REDIS_URL: redis-sentinel:// needs ?master=NAME")
		}
		return asynq.RedisFailoverClientOpt{MasterName: q.Get("master"), SentinelAddrs: addrs,
			SentinelPassword: q.Get("sentinel_password"), Username: user, Password: pass, DB: db,
			TLSConfig: tlsConf, PoolSize: poolSize}, nil
	}
	// redis-cluster
	if db, err := dbNumber(u.Path); err != nil || db != 0 {
		return nil, errors.Join(err, fmt.Errorf("MMLITE_REDIS_URL: redis-cluster:// has only database 0"))
	}
	return asynq.RedisClusterClientOpt{Addrs: addrs, Username: user, Password: pass, TLSConfig: tlsConf}, nil
}

// checkQuery refuses a parameter the scheme does not take, and a tls that
// is neither true nor false: a typo (?ssl=true, ?tls=1) would otherwise
// connect in clear text, unsaid.
func checkQuery(scheme string, q url.Values) error {
	known, want := []string{"tls"}, "tls"
	if scheme == "redis-sentinel" {
		known, want = []string{"tls", "master", "sentinel_password"}, "tls, master or sentinel_password"
	}
	for k := range q {
		switch {
		case slices.Contains(known, k):
		case strings.Contains(k, "@"): // a password's end, cut by its '?'
			return errAtAfterHost
		default:
			return fmt.Errorf("unknown parameter %q in MMLITE_REDIS_URL: want %s", k, want)
		}
	}
	if v, ok := q["tls"]; ok && (len(v) != 1 || v[0] != "true" && v[0] != "false") {
		if strings.Contains(strings.Join(v, ""), "@") {
			return errAtAfterHost
		}
		return fmt.Errorf("tls in MMLITE_REDIS_URL must be true or false, got %q", strings.Join(v, ","))
	}
	return nil
}

// errAtAfterHost says that a password's '/', '?' or '#' ended the host
// early (redis://u:12/34@h/0 is host u, port 12), quoting nothing: the
// rest is the password's.
var errAtAfterHost = errors.New("MMLITE_REDIS_URL has an '@' after its host (the password is not shown): " +
	"write a '/', '?' or '#' in a user or password as %2F, %3F, %23")

// atAfterHost says whether u has an '@' in its fragment (which a Redis
// URL has no use for: the text after a '#' would be ignored, and the
// process would connect to the password's first digits). One in its
// query may be a sentinel_password's, with a /db path or without;
// checkQuery refuses any other.
func atAfterHost(u *url.URL) bool {
	return strings.Contains(u.Fragment, "@")
}

func hosts(h string) ([]string, error) {
	if h == "" {
		return nil, fmt.Errorf("MMLITE_REDIS_URL has no host")
	}
	out := strings.Split(h, ",")
	for _, a := range out {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return nil, fmt.Errorf("MMLITE_REDIS_URL: %q is not host:port", a)
		}
	}
	return out, nil
}

// parseErr says why raw is not a URL without quoting it: url.Parse's
// error does, password and all.
func parseErr(raw string) error {
	shown := Redact(raw)
	why := "is its user, password or query URL-encoded (% as %25, @ as %40, / as %2F)?"
	var ue *url.Error
	if _, err := url.Parse(shown); errors.As(err, &ue) && !strings.Contains(shown, "(not shown)") {
		why = ue.Err.Error() // about the part shown
	}
	return fmt.Errorf("MMLITE_REDIS_URL is not a valid URL (the password is not shown): %s: %s", shown, why)
}

func dbNumber(path string) (int, error) {
	p := strings.Trim(path, "/")
	if p == "" {
		return 0, nil
	}
	if strings.Contains(p, "@") {
		// A '/' in a password ends the host: the rest is in the path.
		return 0, errAtAfterHost
	}
	db, err := strconv.Atoi(p)
	if err != nil || db < 0 {
		return 0, fmt.Errorf("MMLITE_REDIS_URL: the database must be a number >= 0, got %q", p)
	}
	return db, nil
}

// Client returns a go-redis client for the same connection options.
func Client(opt asynq.RedisConnOpt) redis.UniversalClient {
	return opt.MakeRedisClient().(redis.UniversalClient)
}

// Redact hides the password of a Redis URL and the values of its query
// but master and tls (sentinel_password is one), for logs and errors.
func Redact(raw string) string {
	return safeurl.Mask(raw, "master", "tls")
}
