package main

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/urfave/cli/v3"
)

// version and revision are set by the image build (-ldflags "-X
// main.version=... -X main.revision=..."), whose context has no .git to
// read them from. They are package variables because -X can set nothing
// else; nothing assigns them at run time.
var (
	version  string
	revision string
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, the VCS revision it was built from and the Go version (also: mmlite --version)",
		Action: func(_ context.Context, cmd *cli.Command) error {
			_, err := fmt.Fprintf(cmd.Root().Writer, "%s version %s\n", cmd.Root().Name, cmd.Root().Version)
			return err
		},
	}
}

// buildInfo is this binary's build information, nil when it has none.
func buildInfo() (*debug.BuildInfo, string, string) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return bi, version, revision
}

// versionLine says what was built: the module version ("(devel)" from a
// checkout), the VCS revision and whether the tree had changes, the commit
// time, and the Go version. ldVersion and ldRevision, when set, win over
// the build information. A build without VCS stamping (-buildvcs=false,
// or no .git) says "revision unknown".
func versionLine(bi *debug.BuildInfo, ldVersion, ldRevision string) string {
	v, rev, modified, at, goVersion := "(devel)", "unknown", false, "", ""
	if bi != nil {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			case "vcs.time":
				at = s.Value
			}
		}
	}
	if ldVersion != "" {
		v = ldVersion
	}
	if ldRevision != "" {
		rev, modified, at = ldRevision, false, ""
	}
	line := v + ", revision " + rev
	if modified {
		line += " (modified)"
	}
	if at != "" {
		line += ", committed " + at
	}
	if goVersion != "" {
		line += ", " + goVersion
	}
	return line
}
