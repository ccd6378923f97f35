package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// chromePath finds a Chromium or Chrome for the browser tests:
// MMLITE_CHROME, then Debian's /usr/bin/chromium, then chromium,
// chromium-browser or google-chrome in PATH. "" when there is none.
func chromePath() string {
	if p := os.Getenv("MMLITE_CHROME"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts a headless browser for the test, or skips it when
// none is installed. Every step of a test waits for what it needs within
// the browser's context, which ends after within.
func newBrowser(t *testing.T, within time.Duration) context.Context {
	t.Helper()
	path := chromePath()
	if path == "" {
		t.Skip("no browser: install Debian's chromium (apt-get install chromium) or set MMLITE_CHROME to a Chrome or Chromium binary")
	}
	if testing.Short() {
		t.Skip("browser tests are skipped with -short")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1366, 900), chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	ctx, cancel := context.WithTimeout(ctx, within)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx), "start the browser at %s", path)
	return ctx
}

// artifacts is where the browser tests save screenshots and downloads:
// MMLITE_ARTIFACTS when set (kept), else the test's temporary directory.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MMLITE_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, t.Name())
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// screenshot saves the page as name.png in dir.
func screenshot(t *testing.T, ctx context.Context, dir, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	p := filepath.Join(dir, name+".png")
	require.NoError(t, os.WriteFile(p, png, 0o644))
	t.Logf("screenshot: %s", p)
	return p
}
