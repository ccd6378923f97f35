package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/urfave/cli/v3"
)

// healthcheckCommand probes an HTTP endpoint, for container health checks
// in images without curl: exit 0 on a 2xx answer, 1 otherwise.
func healthcheckCommand() *cli.Command {
	return &cli.Command{
		Name:      "healthcheck",
		Usage:     "GET a URL (default the api's /healthz) and exit 0 on 2xx: for container health checks",
		ArgsUsage: "[URL]",
		Flags:     []cli.Flag{&cli.DurationFlag{Name: "timeout", Value: 3 * time.Second, Usage: "give up after this long"}},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			url := cmd.Args().First()
			if url == "" {
				url = "http://127.0.0.1:8080/healthz"
			}
			if d := cmd.Duration("timeout"); d <= 0 { // every probe would fail
				return cli.Exit(fmt.Sprintf("--timeout %s: it must be above 0", d), 1)
			}
			ctx, cancel := context.WithTimeout(ctx, cmd.Duration("timeout"))
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return cli.Exit(err, 1)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return cli.Exit(err, 1)
			}
			resp.Body.Close()
			if resp.StatusCode < 200 || resp.StatusCode > 299 {
				return cli.Exit(fmt.Sprintf("%s: %s", url, resp.Status), 1)
			}
			return nil
		},
	}
}
