package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/mmlite/mmlite/producer"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// enqueueProgress is the progress bar of mmlite enqueue, on stderr when it
// is a terminal.
type enqueueProgress struct {
	mu  sync.Mutex
	bar *progressbar.ProgressBar
}

func newProgress(off bool) *enqueueProgress {
	if off || !term.IsTerminal(int(os.Stderr.Fd())) {
		return &enqueueProgress{}
	}
	return &enqueueProgress{bar: progressbar.NewOptions64(-1, progressbar.OptionSetWriter(os.Stderr),
		progressbar.OptionSetItsString("rows"), progressbar.OptionShowIts(), progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish())}
}

func (p *enqueueProgress) update(s producer.Summary) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.Describe(fmt.Sprintf("accepted %d, duplicates %d, rejected %d", s.Accepted, s.Duplicates, s.Rejected))
	_ = p.bar.Set64(s.Rows())
}

func (p *enqueueProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// timeNow is the clock of commands (a variable for nothing but clarity).
var timeNow = time.Now
