package progress

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
)

// Line is one line of progress: outcomes, share done, whether the campaign
// takes more recipients, send rate, delivery, and, when the status has
// them, its ETA and why it waits.
func Line(st *campaign.Status, rate float64) string {
	c := st.Counts
	list := "open"
	if st.Sealed {
		list = "sealed"
	}
	suppressed := ""
	if c.Suppressed > 0 {
		suppressed = fmt.Sprintf(" suppressed %d", c.Suppressed)
	}
	line := fmt.Sprintf("%-9s %d/%d (%3d%%) %s | sent %d failed %d unknown %d expired %d cancelled %d%s | %5.1f msg/s | delivered %d read %d",
		st.State, c.Final(), c.Enqueued, Percent(c), list, c.Sent, c.Failed, c.Unknown, c.Expired, c.Cancelled, suppressed, rate,
		c.Delivered, c.Read)
	if st.ETA != nil {
		line += " | eta " + clock(*st.ETA)
	}
	if w := st.Waiting; w != nil {
		line += " | waiting: " + w.Reason
		if w.Until != nil {
			line += " until " + clock(*w.Until)
		}
	}
	return line
}

// clock is a time of the day in local time, with the date when not today.
func clock(t time.Time) string {
	t = t.Local()
	if y, m, d := t.Date(); y == time.Now().Year() && m == time.Now().Month() && d == time.Now().Day() {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04")
}

// Percent is the share of the enqueued recipients that are final, rounded
// down: 100 only once every one of them is (999 of 1,000 is 99, not 100).
func Percent(c task.Counts) int {
	if c.Enqueued <= 0 {
		return 0
	}
	return int(min(100, 100*c.Final()/c.Enqueued))
}

// Meter is a rate over a sliding window: a status read twice a second sees
// the sends in bursts (a whole batch in one read, none in the next), and
// the rate between two reads jumps with them.
type Meter struct {
	window  time.Duration
	samples []sample
}

type sample struct {
	at time.Time
	n  int64
}

// NewMeter returns a meter over window.
func NewMeter(window time.Duration) *Meter { return &Meter{window: window} }

// Add records the count n at t and returns the rate per second over the
// window ending at t (over what it has seen, until the window is full).
func (m *Meter) Add(t time.Time, n int64) float64 {
	m.samples = append(m.samples, sample{at: t, n: n})
	// Keep one sample at or before the window's start, so that the rate
	// spans the whole window.
	from := t.Add(-m.window)
	for len(m.samples) > 2 && !m.samples[1].at.After(from) {
		m.samples = m.samples[1:]
	}
	first := m.samples[0]
	dt := t.Sub(first.at).Seconds()
	if dt <= 0 || n <= first.n {
		return 0
	}
	return float64(n-first.n) / dt
}

// Done reports whether a campaign is over.
func Done(st *campaign.Status) bool {
	return st.State == campaign.StateCompleted || (st.State == campaign.StateCancelled && st.FinishedAt != nil)
}

// RateWindow is the window of the send rate that Watch shows.
const RateWindow = 10 * time.Second

// Watch redraws the campaign's line every interval until it is over (then
// it returns the last status) or ctx ends. On a terminal the line is
// redrawn in place; elsewhere a line is printed every few seconds.
func Watch(ctx context.Context, w io.Writer, tty bool, interval time.Duration, get func(context.Context) (*campaign.Status, error)) (*campaign.Status, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	meter := NewMeter(RateWindow)
	var printedAt time.Time
	for {
		st, err := get(ctx)
		if err != nil {
			return nil, err
		}
		now := time.Now()
		rate := meter.Add(now, st.Counts.Sent)
		done := Done(st)
		switch {
		case tty:
			fmt.Fprintf(w, "\r\033[K%s", Line(st, rate))
			if done {
				fmt.Fprintln(w)
			}
		case done || now.Sub(printedAt) >= 2*time.Second:
			fmt.Fprintln(w, Line(st, rate))
			printedAt = now
		}
		if done {
			return st, nil
		}
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprintln(w)
			}
			return st, ctx.Err()
		case <-t.C:
		}
	}
}

// Outcome is one row of the outcomes table.
type Outcome struct {
	Status string
	Code   int
	Class  string
	Title  string
	Count  int
}

// Tally groups results by status and error.
func Tally(results []task.Result) []Outcome {
	byKey := map[string]*Outcome{}
	for _, r := range results {
		o := Outcome{Status: r.Status}
		if r.Error != nil {
			o.Code, o.Class, o.Title = r.Error.Code, r.Error.Class, r.Error.Title
		}
		k := fmt.Sprintf("%s|%d|%s|%s", o.Status, o.Code, o.Class, o.Title)
		if byKey[k] == nil {
			byKey[k] = &o
		}
		byKey[k].Count++
	}
	out := make([]Outcome, 0, len(byKey))
	for _, o := range byKey {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Status+out[i].Title < out[j].Status+out[j].Title
	})
	return out
}

// Table writes the outcomes as an aligned table.
func Table(w io.Writer, rows []Outcome) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tCOUNT\tCODE\tCLASS\tERROR")
	for _, o := range rows {
		code := ""
		if o.Code != 0 {
			code = fmt.Sprint(o.Code)
		}
		title := o.Title
		if len(title) > 70 {
			title = title[:67] + "..."
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", o.Status, o.Count, code, o.Class, strings.ReplaceAll(title, "\t", " "))
	}
	_ = tw.Flush()
}
