package console

import (
	"fmt"
	"math"
	"strconv"

	"github.com/mmlite/mmlite/internal/store"
)

// chart is the sends-per-second chart: an inline SVG drawn on the server
// from the campaign's rate history, redrawn by each live update.
type chart struct {
	Width, Height int
	Bars          []bar
	Max           string // the top of the scale, in sends per second
	From, To      string // the span's ends
	Label         string // the chart in words, for screen readers
}

type bar struct {
	X, Y, W, H float64
	Title      string
}

const chartW, chartH = 600, 160

func newChart(hist []store.RatePoint) chart {
	ch := chart{Width: chartW, Height: chartH}
	if len(hist) == 0 {
		ch.Label = "no sends per second to show yet"
		return ch
	}
	peak := 0.0
	for _, p := range hist {
		peak = math.Max(peak, p.Rate)
	}
	top := niceCeil(peak)
	ch.Max = strconv.FormatFloat(top, 'f', -1, 64)
	w := float64(chartW) / float64(store.RateHistoryLen)
	for i, p := range hist {
		h := p.Rate / top * chartH
		x := float64(store.RateHistoryLen-len(hist)+i) * w
		ch.Bars = append(ch.Bars, bar{X: x, Y: chartH - h, W: w - 1, H: h,
			Title: fmt.Sprintf("%s: %.1f/s", p.At.Format("15:04:05"), p.Rate)})
	}
	ch.From, ch.To = hist[0].At.Format("15:04:05"), hist[len(hist)-1].At.Format("15:04:05")+" UTC"
	ch.Label = fmt.Sprintf("Sends per second, every 10 s from %s to %s: latest %.1f/s, peak %.1f/s",
		ch.From, ch.To, hist[len(hist)-1].Rate, peak)
	return ch
}

// niceCeil rounds a scale's top up to 1, 2 or 5 times a power of ten (at
// least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
