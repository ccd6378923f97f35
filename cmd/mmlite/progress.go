package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"

	"github.com/mmlite/mmlite/producer"
	"golang.org/x/term"
)

// enqueueProgress is the progress line of mmlite enqueue, redrawn in place
// on stderr when it is a terminal. The total is unknown (the input is
// streamed), so it says how many rows were read and how fast.
type enqueueProgress struct {
	w     io.Writer // nil: no progress
	start time.Time

	mu    sync.Mutex
	drawn time.Time
}

// progressEvery throttles the redraws.
const progressEvery = 100 * time.Millisecond

func newProgress(off bool) *enqueueProgress {
	if off || !term.IsTerminal(int(os.Stderr.Fd())) {
		return &enqueueProgress{}
	}
	return &enqueueProgress{w: os.Stderr, start: time.Now()}
}

func (p *enqueueProgress) update(s producer.Summary) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.drawn) < progressEvery {
		return
	}
	p.drawn = now
	fmt.Fprintf(p.w, "\r\033[K%s", progressLine(s, now.Sub(p.start)))
}

// finish clears the line: the summary follows on stdout.
func (p *enqueueProgress) finish() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.drawn.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// progressLine is "12000 rows read, 3000 rows/s: 11998 accepted, 1
// duplicate, 1 rejected"; no rate before any time has passed.
func progressLine(s producer.Summary, elapsed time.Duration) string {
	read := plural(s.Rows(), "row") + " read"
	if elapsed > 0 {
		read += fmt.Sprintf(", %.0f rows/s", math.Round(float64(s.Rows())/elapsed.Seconds()))
	}
	return read + ": " + counts(&s)
}
