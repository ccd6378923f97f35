package demo_test

import (
	"context"
	"io"
	"testing"

	"github.com/mmlite/mmlite/internal/demo"
	"github.com/stretchr/testify/require"
)

// The demo end to end runs in cmd/mmlite's TestDemo; here, what it refuses.
func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := demo.Config{Recipients: 1, Rate: 1, Out: io.Discard, Progress: io.Discard}
	require.NoError(t, ok.Validate())
	for _, tc := range []struct {
		edit func(c *demo.Config)
		want string
	}{
		{func(c *demo.Config) { c.Recipients = 0 }, "recipients must be positive, got 0"},
		{func(c *demo.Config) { c.Rate = -1 }, "rate must be positive, got -1"},
		{func(c *demo.Config) { c.Out = nil }, "Out and Progress are required"},
	} {
		c := ok
		tc.edit(&c)
		require.ErrorContains(t, c.Validate(), tc.want)
		require.ErrorContains(t, demo.Run(context.Background(), c), tc.want, "Run checks first")
	}
}
