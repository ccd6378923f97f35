package producer_test

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// dryRun enqueues src without Redis writes and returns the summary and error.
func dryRun(t *testing.T, src producer.Source) (*producer.Summary, error) {
	t.Helper()
	b := setup(t)
	c := &campaign.Campaign{ID: "spring-sale-2026", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
	return b.p.Enqueue(context.Background(), c, src, producer.Options{DryRun: true})
}

// numbers writes n distinct valid rows of a "to,body.1" file, calling
// odd(i) to replace the second cell of row i (from 0) when it returns
// something.
func numbers(n int, odd func(i int) string) string {
	var sb strings.Builder
	sb.WriteString("to,body.1\n")
	for i := range n {
		cell := odd(i)
		if cell == "" {
			cell = fmt.Sprintf("name%d", i)
		}
		fmt.Fprintf(&sb, "4477009%05d,%s\n", i, cell)
	}
	return sb.String()
}

// Item 1 of issue 10: `to\n"x` made the reader call FieldPos(0) after a
// parse error that produced no field, and panic.
func TestCSV_UnclosedQuoteAtEOF_NoPanic(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"to\n\"x":                          "line 2: a quote opened here never closes",
		"to\n\"":                           "line 2: a quote opened here never closes",
		"to\n441234567890\n\"x\ny\n":       "line 3: a quote opened here never closes",
		"to,body.1\n441234567890,\"a\nb\n": "line 2: a quote opened here never closes",
		"\"to\n":                           "line 1: a quote opened here never closes",
	} {
		var err error
		require.NotPanics(t, func() { _, err = drain(t, producer.NewCSVSource(strings.NewReader(in))) }, "%q", in)
		require.ErrorContains(t, err, want, "%q", in)
	}

	sum, err := dryRun(t, producer.NewCSVSource(strings.NewReader("to\n441234567890\n441234567891\n\"x")))
	var ie *producer.InputError
	require.ErrorAs(t, err, &ie, "a quote that never closes is a problem with the file, not a row")
	require.ErrorContains(t, err, "line 4: a quote opened here never closes")
	require.EqualValues(t, 2, sum.Accepted, "the rows before it are kept")
	require.EqualValues(t, 0, sum.Rejected)
}

// Item 2 of issue 10: a quote that never closes swallowed every row after
// it without a word; one that closed much later made them one rejected row.
func TestCSV_UnclosedQuoteDoesNotSwallowRows(t *testing.T) {
	t.Parallel()
	in := numbers(10000, func(i int) string {
		if i == 4 {
			return `"unterminated`
		}
		return ""
	})
	sum, err := dryRun(t, producer.NewCSVSource(strings.NewReader(in)))
	var ie *producer.InputError
	require.ErrorAs(t, err, &ie, "the file stops, loudly")
	require.ErrorContains(t, err, "line 6: a quote opened here never closes")
	require.EqualValues(t, 4, sum.Accepted)
	require.EqualValues(t, 0, sum.Rejected, "no row is counted for the part that could not be read")

	// The quote opened on line 6 closes at the next quote in the file (line
	// 1001's): the rows in between are not one rejected row.
	in = numbers(10000, func(i int) string {
		switch i {
		case 4:
			return `"unterminated`
		case 999:
			return `"Smith, John"`
		}
		return ""
	})
	sum, err = dryRun(t, producer.NewCSVSource(strings.NewReader(in)))
	require.ErrorAs(t, err, &ie)
	require.ErrorContains(t, err, "line 6: a quote opened here")
	require.EqualValues(t, 4, sum.Accepted)
	require.EqualValues(t, 0, sum.Rejected)

	// Quoted fields that span lines as they should are one row each, and
	// the lines of the rows after them stay right.
	rows, err := drain(t, producer.NewCSVSource(strings.NewReader(
		"to,meta.address\n441234567890,\"1 High St\nLondon\"\n441234567891,\"a\n\nb\n\"\n441234567892,x\n")))
	require.NoError(t, err)
	require.Len(t, rows, 3)
	require.Equal(t, []int{2, 4, 8}, []int{rows[0].line, rows[1].line, rows[2].line})
	require.Equal(t, "1 High St\nLondon", rows[0].r.Metadata["address"])
	require.Equal(t, "a\n\nb\n", rows[1].r.Metadata["address"])
}

// quotedField streams a CSV whose second row opens a quoted field of size
// bytes in lines of 1 KiB, closes it and adds one more row, without
// holding it in memory.
type quotedField struct {
	head, tail string
	size, sent int
}

func (q *quotedField) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		switch {
		case q.head != "":
			c := copy(p[n:], q.head)
			q.head, n = q.head[c:], n+c
		case q.sent < q.size:
			// 1023 x's and a newline per KiB
			if q.sent%1024 == 1023 {
				p[n] = '\n'
			} else {
				p[n] = 'x'
			}
			q.sent++
			n++
		case q.tail != "":
			c := copy(p[n:], q.tail)
			q.tail, n = q.tail[c:], n+c
		default:
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
	}
	return n, nil
}

// Item 3 of issue 10: a quoted field spread over short lines slipped past
// the 1 MiB line limit, and the reader held all of it.
func TestCSV_QuotedFieldIsBoundedLikeALine(t *testing.T) {
	// Not parallel: it measures the process's allocations.
	src := producer.NewCSVSource(&quotedField{head: "to,meta.note\n441234567890,ok\n441234567891,\"", size: 20 << 20, tail: "\"\n441234567892,ok\n"})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rows, err := drain(t, src)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	require.Less(t, alloc, uint64(8<<20), "the reader allocated %d bytes for a 20 MiB field", alloc)
	require.ErrorContains(t, err, "line 3: a quoted field opened here is longer than 1048576 bytes")
	require.Len(t, rows, 1, "the row before it is read")

	// The same bound holds for a row whose quoted fields each close but
	// together run past MaxLine.
	var sb strings.Builder
	sb.WriteString("to,meta.a,meta.b\n441234567890,\"")
	sb.WriteString(strings.Repeat("y\n", producer.MaxLine/4))
	sb.WriteString("\",\"")
	sb.WriteString(strings.Repeat("z\n", producer.MaxLine/4+10))
	sb.WriteString("\"\n441234567891,a,b\n")
	_, err = drain(t, producer.NewCSVSource(strings.NewReader(sb.String())))
	require.ErrorContains(t, err, "line 2: the row that starts here is longer than 1048576 bytes")
}

// Malformed rows on one line are rejected and reading goes on; a malformed
// row that spans lines is most likely a misplaced quote, and stops the file
// at the line where the quote opened.
func TestCSV_MalformedRows(t *testing.T) {
	t.Parallel()
	in := "to,meta.a\r\n" +
		"441234567890,a\"b\r\n" + // 2 bare quote
		"\r\n" + // 3 blank
		"441234567891,\"a\"b\r\n" + // 4 text after the closing quote
		"441234567892,\"a\"\"b\"\r\n" + // 5 ok
		"441234567893\r\n" + // 6 too few fields
		"441234567894,\"x\ny\"\r" // 7-8 ok, a CR at the end of the file
	rows, err := drain(t, producer.NewCSVSource(strings.NewReader(in)))
	require.NoError(t, err)
	require.Len(t, rows, 5)
	require.Equal(t, []int{2, 4, 5, 6, 7}, []int{rows[0].line, rows[1].line, rows[2].line, rows[3].line, rows[4].line})
	require.Contains(t, rows[0].err, `malformed CSV: a " in a field that is not quoted`)
	require.Contains(t, rows[1].err, `malformed CSV: text after the closing "`)
	require.Equal(t, `a"b`, rows[2].r.Metadata["a"])
	require.Contains(t, rows[3].err, "1 fields, the header has 2")
	require.Equal(t, "x\ny", rows[4].r.Metadata["a"])

	for in, want := range map[string]string{
		"to,meta.a\n441234567890,\"a\nb\",c\n441234567891,d\n": "line 2: a quote opened here closes only on line 3, and the row it ends has 3 fields, the header has 2",
		"to,meta.a\n441234567890,\"a\nb\"c\n441234567891,d\n":  "line 2: a quote opened here closes only on line 3, where the row is malformed",
		"to" + strings.Repeat(",x", 1000) + "\n":               "line 1: 1001 columns, at most 1000",
	} {
		rows, err := drain(t, producer.NewCSVSource(strings.NewReader(in)))
		require.ErrorContains(t, err, want, "%q", in)
		require.Empty(t, rows)
	}

	// A row of many fields is counted, not held.
	rows, err = drain(t, producer.NewCSVSource(strings.NewReader("to\n1"+strings.Repeat(",", 100000)+"\n441234567890\n")))
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Contains(t, rows[0].err, "100001 fields, the header has 1")
}
