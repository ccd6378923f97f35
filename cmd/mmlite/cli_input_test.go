package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A Redis URL that does not parse was printed whole, password and all, in
// url.Parse's error.
func TestBadRedisURL_PasswordNotShown(t *testing.T) {
	t.Parallel()
	out, code := run(t, "campaign", "status", "x", "--redis-url", "redis://u:s3cre%zz@127.0.0.1:6379/0")
	require.Equal(t, 1, code, out)
	require.NotContains(t, out, "s3cre")
	require.Contains(t, out, "MMLITE_REDIS_URL is not a valid URL (the password is not shown): redis://xxxxx@127.0.0.1:6379/0")
}
