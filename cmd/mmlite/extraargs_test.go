package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v3"
)

// A command's own Before still runs once its arguments pass the check
// (checkCommandLine set Before over it, silently).
func TestRefuseExtraArgs_KeepsACommandsOwnBefore(t *testing.T) {
	t.Parallel()
	ran := 0
	newApp := func() *cli.Command {
		sub := &cli.Command{Name: "show", ArgsUsage: "ID",
			Before: func(ctx context.Context, _ *cli.Command) (context.Context, error) { ran++; return ctx, nil },
			Action: func(context.Context, *cli.Command) error { return nil }}
		app := &cli.Command{Name: "mmlite", Commands: []*cli.Command{sub}, ExitErrHandler: func(context.Context, *cli.Command, error) {}}
		checkCommandLine(app)
		return app
	}
	require.NoError(t, newApp().Run(context.Background(), []string{"mmlite", "show", "a"}))
	require.Equal(t, 1, ran, "its own Before ran")
	require.Error(t, newApp().Run(context.Background(), []string{"mmlite", "show", "a", "b"}))
	require.Equal(t, 1, ran, "not past a refusal")
}
