package redisconn_test

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	t.Parallel()
	opt, err := redisconn.Parse("redis://u:p@127.0.0.1:6379/15", 7)
	require.NoError(t, err)
	c := opt.(asynq.RedisClientOpt)
	require.Equal(t, "127.0.0.1:6379", c.Addr)
	require.Equal(t, "u", c.Username)
	require.Equal(t, "p", c.Password)
	require.Equal(t, 15, c.DB)
	require.Equal(t, 7, c.PoolSize)
	require.Nil(t, c.TLSConfig)

	opt, err = redisconn.Parse("rediss://:p@redis.example.com:6380", 0)
	require.NoError(t, err)
	c = opt.(asynq.RedisClientOpt)
	require.NotNil(t, c.TLSConfig)
	require.Equal(t, "redis.example.com", c.TLSConfig.ServerName)
	require.Equal(t, 0, c.DB)

	opt, err = redisconn.Parse("redis-sentinel://:pw@10.0.0.1:26379,10.0.0.2:26379/2?master=mymaster&sentinel_password=sp", 0)
	require.NoError(t, err)
	s := opt.(asynq.RedisFailoverClientOpt)
	require.Equal(t, "mymaster", s.MasterName)
	require.Equal(t, []string{"10.0.0.1:26379", "10.0.0.2:26379"}, s.SentinelAddrs)
	require.Equal(t, "pw", s.Password)
	require.Equal(t, "sp", s.SentinelPassword)
	require.Equal(t, 2, s.DB)

	opt, err = redisconn.Parse("redis-cluster://10.0.0.1:7000,10.0.0.2:7001?tls=true", 0)
	require.NoError(t, err)
	cl := opt.(asynq.RedisClusterClientOpt)
	require.Equal(t, []string{"10.0.0.1:7000", "10.0.0.2:7001"}, cl.Addrs)
	require.NotNil(t, cl.TLSConfig)
	require.Empty(t, cl.TLSConfig.ServerName, "each node is verified under the name it is dialled by")
}

func TestParse_Errors(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"http://x:1":                             "unsupported scheme",
		"redis://":                               "no host",
		"redis://host":                           "not host:port",
		"redis://h:1/x":                          "database must be a number",
		"redis://h:1,h:2":                        "takes one host",
		"redis-sentinel://h:1":                   "needs ?master",
		"redis-cluster://h:1/3":                  "only database 0",
		"redis://h:1/%zz":                        "not a valid URL",
		"redis-sentinel://nohost,h:1/0?master=m": "not host:port",
		// A typo in a parameter was dropped unsaid: ?ssl=true or ?tls=1
		// connected in clear text (found in review).
		"redis://h:1/0?ssl=true":             `unknown parameter "ssl" in MMLITE_REDIS_URL: want tls`,
		"redis://h:1/0?tls=1":                `tls in MMLITE_REDIS_URL must be true or false, got "1"`,
		"redis://h:1/0?master=m":             `unknown parameter "master" in MMLITE_REDIS_URL: want tls`,
		"redis-sentinel://h:1/0?master=m&x=": `unknown parameter "x" in MMLITE_REDIS_URL: want tls, master or sentinel_password`,
	}
	for in, want := range cases {
		_, err := redisconn.Parse(in, 0)
		require.ErrorContains(t, err, want, in)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	require.Equal(t, "redis://u:xxxxx@h:1/0", redisconn.Redact("redis://u:secret@h:1/0"))
	require.Equal(t, "redis://h:1/%zz", redisconn.Redact("redis://h:1/%zz"))
}

// A sentinel's password travels in the query: the URL printed when Redis
// cannot be reached showed it.
func TestRedact_HidesTheQuerysSecrets(t *testing.T) {
	t.Parallel()
	got := redisconn.Redact("redis-sentinel://:pw@h:26379,h2:26379/0?master=m&sentinel_password=SPASS&password=P2&tls=true")
	require.NotContains(t, got, "SPASS")
	require.NotContains(t, got, "P2")
	require.NotContains(t, got, ":pw@")
	require.Equal(t, "redis-sentinel://:xxxxx@h:26379,h2:26379/0?master=m&password=xxxxx&sentinel_password=xxxxx&tls=true", got)
	require.Equal(t, "redis://xxxxx@127.0.0.1:6379/0", redisconn.Redact("redis://u:s3cre%zz@127.0.0.1:6379/0"))
}

// url.Parse's error quotes the URL it could not read, password and all.
func TestParse_ErrorHidesThePassword(t *testing.T) {
	t.Parallel()
	for raw, shown := range map[string]string{
		"redis://u:s3cre%zz@127.0.0.1:6379/0":                         "redis://xxxxx@127.0.0.1:6379/0",
		"redis://u:s3cre/t@127.0.0.1:6379/0":                          "redis://xxxxx@127.0.0.1:6379/0",
		"redis://u:12/s3cret@127.0.0.1:6379/0":                        "",
		"redis-cluster://u:12/s3cret@h:6379":                          "",
		"redis-sentinel://h:1/0?master=m&sentinel_password=s3cre#%zz": "redis-sentinel://h:1/0",
	} {
		_, err := redisconn.Parse(raw, 0)
		require.Error(t, err, raw)
		require.NotContains(t, err.Error(), "s3cre", raw)
		require.Contains(t, err.Error(), "MMLITE_REDIS_URL", raw)
		require.Contains(t, err.Error(), shown, raw)
	}
	_, err := redisconn.Parse("redis://u:s3cre%zz@127.0.0.1:6379/0", 0)
	require.ErrorContains(t, err, "MMLITE_REDIS_URL is not a valid URL (the password is not shown)")
}

// Reach asks the Sentinels of a Sentinel URL once each, without go-redis's
// retries (which took a command about 38 s to fail when none answered),
// and names them when none does; other URLs it leaves to the client.
func TestReach(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := redistest.ClosedAddr(t), redistest.ClosedAddr(t)
	opt, err := redisconn.Parse("redis-sentinel://:pw@"+a+","+b+"/0?master=mymaster&sentinel_password=sp", 0)
	require.NoError(t, err)
	err = redisconn.Reach(ctx, opt)
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), "no Sentinel answers at "+a+", "+b+` (master "mymaster"): `), err.Error())
	require.Contains(t, err.Error(), "dial tcp "+a)
	require.Contains(t, err.Error(), "dial tcp "+b)
	require.NotContains(t, err.Error(), "\n")
	require.NotContains(t, err.Error(), "sp")
	require.True(t, redisconn.Unavailable(err), "Redis unreachable, for the callers that say so")

	// One Sentinel that answers is enough (miniredis answers PING as one would).
	mr := miniredis.RunT(t)
	opt, err = redisconn.Parse("redis-sentinel://"+a+","+mr.Addr()+"/0?master=mymaster", 0)
	require.NoError(t, err)
	require.NoError(t, redisconn.Reach(ctx, opt))

	// Other URLs are the client's to dial.
	opt, err = redisconn.Parse("redis://"+a+"/0", 0)
	require.NoError(t, err)
	require.NoError(t, redisconn.Reach(ctx, opt))

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	opt, err = redisconn.Parse("redis-sentinel://"+a+"/0?master=mymaster", 0)
	require.NoError(t, err)
	require.ErrorIs(t, redisconn.Reach(cancelled, opt), context.Canceled)
}

// Reach dials each Sentinel once, not go-redis's retries and redials
// (which took a command about 38 s to fail): counted, not timed, for a
// bound in seconds says nothing on a busy machine. Each Sentinel here
// hangs up at once, as one that is going down does.
func TestReach_DialsEachSentinelOnce(t *testing.T) {
	t.Parallel()
	hangUp := func() (string, *atomic.Int64) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { _ = ln.Close() })
		var n atomic.Int64
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				n.Add(1)
				_ = c.Close()
			}
		}()
		return ln.Addr().String(), &n
	}
	a, na := hangUp()
	b, nb := hangUp()
	opt, err := redisconn.Parse("redis-sentinel://"+a+","+b+"/0?master=mymaster", 0)
	require.NoError(t, err)
	err = redisconn.Reach(context.Background(), opt)
	require.ErrorContains(t, err, "no Sentinel answers at "+a+", "+b)
	require.True(t, redisconn.Unavailable(err), err)
	require.Equal(t, int64(1), na.Load(), "dials of %s", a)
	require.Equal(t, int64(1), nb.Load(), "dials of %s", b)
}

// A password with an unescaped '?' or '#' ends the host early: its end
// was quoted as an unknown parameter (redis://u:12?s3cret@h/0 said
// unknown parameter "s3cret@h/0"), or, after a '#', the URL was taken
// and the process connected to host u, port 12.
func TestParse_RefusesAnAtAfterTheHost(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"redis://u:12?s3cret@h:6379/0",
		"redis://u:12#s3cret@h:6379/0",
		"redis://u:12/0#s3cret@h:6379/0",
		"redis://u:12/0?s3cret@h:6379/0",
		"redis://u:12/0?tls=s3cret@h:6379/0",
		"rediss://user:abc#s3cret@h",
		"redis-sentinel://:12?s3cret@h:1,h2:2/0?master=m",
	} {
		_, err := redisconn.Parse(raw, 0)
		require.Error(t, err, raw)
		require.NotContains(t, err.Error(), "s3cret", raw)
		require.NotContains(t, err.Error(), "12", raw)
		require.NotContains(t, err.Error(), "(not shown): invalid character", raw)
		require.Contains(t, err.Error(), "MMLITE_REDIS_URL", raw)
	}
	// A sentinel's password in the query may hold an '@'.
	_, err := redisconn.Parse("redis-sentinel://h:1,h2:2/0?master=m&sentinel_password=p@ss", 0)
	require.NoError(t, err)
	// Without a /db path too, asynq's own form (found in review: refused,
	// saying that a password's '/', '?' or '#' ended the host).
	opt, err := redisconn.Parse("redis-sentinel://h:1,h2:2?master=m&sentinel_password=p@ss", 0)
	require.NoError(t, err)
	require.Equal(t, "p@ss", opt.(asynq.RedisFailoverClientOpt).SentinelPassword)
	require.Equal(t, "redis://xxxxx@h:6379/0", redisconn.Redact("redis://u:12/34@h:6379/0"))
}
