package producer_test

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/producer"
)

// BenchmarkReaders measures the recipient readers alone (no Redis): the
// one-column file of BenchmarkEnqueue, a wider one with quoted cells, and
// the same wide rows as JSON Lines.
func BenchmarkReaders(b *testing.B) {
	const rows = 100_000
	var narrow, wide, jsonl strings.Builder
	narrow.WriteString("to\n")
	wide.WriteString("to,body.1,body.2,button.0,meta.crm_id\n")
	for i := range rows {
		fmt.Fprintf(&narrow, "44770%d\n", 1_000_000+i)
		fmt.Fprintf(&wide, "+44 7700 9%05d,\"Smith, Ana\",%d%%,code-%d,\"crm \"\"%d\"\"\"\n", i, i%50, i, i)
		fmt.Fprintf(&jsonl, `{"to": "+44 7700 9%05d", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Smith, Ana"}]}], "metadata": {"crm_id": "%d"}}`+"\n", i, i)
	}
	for _, c := range []struct {
		name string
		in   string
		src  func(io.Reader) producer.Source
	}{
		{"csv-narrow", narrow.String(), func(r io.Reader) producer.Source { return producer.NewCSVSource(r) }},
		{"csv-wide", wide.String(), func(r io.Reader) producer.Source { return producer.NewCSVSource(r) }},
		{"jsonl", jsonl.String(), func(r io.Reader) producer.Source { return producer.NewJSONLSource(r) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.in)))
			b.ReportAllocs()
			for b.Loop() {
				src := c.src(strings.NewReader(c.in))
				n := 0
				for {
					_, _, err := src.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != rows {
					b.Fatalf("%d rows, want %d", n, rows)
				}
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
