// Package progress shows a campaign's progress in a terminal: a live line
// while it runs, and tables of outcomes when it is over. The demo and
// `mmlite campaign status --watch` use it.
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

// Line is one line of progress: outcomes, share done, send rate, delivery.
func Line(st *campaign.Status, rate float64) string {
	c := st.Counts
	pct := 0.0
	if c.Enqueued > 0 {
		pct = 100 * float64(c.Final()) / float64(c.Enqueued)
	}
	return fmt.Sprintf("%-9s %d/%d (%3.0f%%) | sent %d failed %d unknown %d expired %d cancelled %d | %5.1f msg/s | delivered %d read %d",
		st.State, c.Final(), c.Enqueued, pct, c.Sent, c.Failed, c.Unknown, c.Expired, c.Cancelled, rate, c.Delivered, c.Read)
}

// Done reports whether a campaign is over.
func Done(st *campaign.Status) bool {
	return st.State == campaign.StateCompleted || (st.State == campaign.StateCancelled && st.FinishedAt != nil)
}

// Watch redraws the campaign's line every interval until it is over (then
// it returns the last status) or ctx ends. On a terminal the line is
// redrawn in place; elsewhere a line is printed every few seconds.
func Watch(ctx context.Context, w io.Writer, tty bool, interval time.Duration, get func(context.Context) (*campaign.Status, error)) (*campaign.Status, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var prevSent int64
	prevAt, printedAt := time.Now(), time.Time{}
	rate := 0.0
	for {
		st, err := get(ctx)
		if err != nil {
			return nil, err
		}
		now := time.Now()
		if dt := now.Sub(prevAt).Seconds(); dt >= 1 {
			rate = float64(st.Counts.Sent-prevSent) / dt
			prevSent, prevAt = st.Counts.Sent, now
		}
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
