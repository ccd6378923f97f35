package producer_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
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

// BenchmarkValidate measures what a dry run does with each row (no Redis
// writes): read it, check it (its UTF-8 among the rest) and count it, for
// the wide CSV and JSON Lines of BenchmarkReaders and for the same rows
// built in Go, as a program's own Source hands them in.
func BenchmarkValidate(b *testing.B) {
	const rows = 100_000
	var wide, jsonl strings.Builder
	wide.WriteString("to,body.1,body.2,button.0,meta.crm_id\n")
	built := make(recipients, rows)
	body, err := mmapi.NewComponent(map[string]any{"type": "body", "parameters": []map[string]string{{"type": "text", "text": "Smith, Ana"}}})
	if err != nil {
		b.Fatal(err)
	}
	for i := range rows {
		fmt.Fprintf(&wide, "+44 7700 9%05d,\"Smith, Ana\",%d%%,code-%d,\"crm \"\"%d\"\"\"\n", i, i%50, i, i)
		fmt.Fprintf(&jsonl, `{"to": "+44 7700 9%05d", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Smith, Ana"}]}], "metadata": {"crm_id": "%d"}}`+"\n", i, i)
		built[i] = producer.Recipient{To: fmt.Sprintf("+44 7700 9%05d", i), Components: []mmapi.Component{body},
			Metadata: map[string]string{"crm_id": fmt.Sprintf("crm \"%d\"", i)}}
	}
	r := redistest.New(b)
	p, err := producer.New(producer.Config{Client: r.Client, Queue: r.Queue})
	if err != nil {
		b.Fatal(err)
	}
	c := &campaign.Campaign{ID: "spring-sale-2026", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
	for _, tc := range []struct {
		name string
		src  func() producer.Source
	}{
		{"csv-wide", func() producer.Source { return producer.NewCSVSource(strings.NewReader(wide.String())) }},
		{"jsonl", func() producer.Source { return producer.NewJSONLSource(strings.NewReader(jsonl.String())) }},
		{"go", func() producer.Source { src := slices.Clone(built); return &src }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sum, err := p.Enqueue(context.Background(), c, tc.src(), producer.Options{DryRun: true})
				if err != nil {
					b.Fatal(err)
				}
				if sum.Accepted != rows {
					b.Fatalf("%d accepted, want %d: %v", sum.Accepted, rows, sum.Errors[:min(3, len(sum.Errors))])
				}
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
