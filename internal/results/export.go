package results

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/mmlite/mmlite/internal/csvcell"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
)

// WriteJSONL writes the selected results of a campaign, one mmlite:result
// payload per line.
func WriteJSONL(ctx context.Context, w io.Writer, st *store.Store, c *campaign.Campaign, f Filter) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	err := Each(ctx, st, c.ID, f, false, func(items []Item) error {
		for _, it := range items {
			if err := enc.Encode(store.ResultOf(c.ID, it.To, c.Sender, it.Outcome)); err != nil {
				return err
			}
		}
		return bw.Flush() // a batch at a time: the client sees rows come
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// CSVHeader reads the selected recipients once to find the columns of
// their CSV: a CSV's header comes first, and recipients differ (metadata
// keys). It fails, before anything is written, when a recipient's
// components have no column (*ErrNoColumn) or the recipients' columns
// cannot share a header.
func CSVHeader(ctx context.Context, st *store.Store, id string, f Filter) ([]string, error) {
	cols := map[string]bool{}
	err := Each(ctx, st, id, f, false, func(items []Item) error {
		for _, it := range items {
			cs, err := cells(it.To, it.Outcome.Components, it.Outcome.Metadata)
			if err != nil {
				return err
			}
			for c := range cs {
				cols[c] = true
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return header(cols)
}

// plain says whether mmlite writes the column's cells itself (the number,
// the status, the error code): no spreadsheet reads those as a formula.
// The others are neutralized (see package csvcell): the recipients'
// parameters and metadata, and the wamid, which is whatever the
// provider's answer said.
func plain(col string) bool { return col == "to" || col == "status" || col == "error_code" }

// WriteCSV writes the selected recipients as CSV under head (see
// CSVHeader): columns that mmlite enqueue reads again, and the outcome's.
// A parameter or metadata cell that a spreadsheet would read as a formula
// gets a ' before it, which mmlite enqueue takes off again (see package
// csvcell). A recipient that became final since CSVHeader read the ledger
// and has a column the header lacks loses that cell.
func WriteCSV(ctx context.Context, w io.Writer, st *store.Store, id string, f Filter, head []string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return err
	}
	row := make([]string, len(head))
	// With each sent message's delivery: its failed status's code is the
	// row's error_code (see errorCode).
	err := Each(ctx, st, id, f, true, func(items []Item) error {
		for _, it := range items {
			cs, err := cells(it.To, it.Outcome.Components, it.Outcome.Metadata)
			var nc *ErrNoColumn
			if err != nil && !errors.As(err, &nc) {
				return err
			}
			if cs == nil {
				cs = map[string]string{}
			}
			cs["to"], cs["status"], cs["wamid"] = it.To, it.Outcome.Status, it.Outcome.WAMID
			cs["error_code"] = ""
			if code := errorCode(it); code != 0 {
				cs["error_code"] = strconv.Itoa(code)
			}
			for i, h := range head {
				row[i] = cs[h]
				if !plain(h) {
					row[i] = csvcell.Neutralize(row[i])
				}
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// errorCode is a row's error_code: the send's error (the last error of an
// expired recipient), or, for a message accepted and then reported
// failed, its failed status's code, the codes the filter selects by.
func errorCode(it Item) int {
	if e := it.Outcome.Error; e != nil && e.Code != 0 {
		return e.Code
	}
	return it.Delivery.ErrorCode
}

// ServeCSV answers with the selected recipients as a CSV file
// (<id>-results.csv) that mmlite enqueue reads again. When it fails,
// started says whether the answer had begun: if not, the caller answers
// the error; if so, rows may be out, and the caller breaks the answer off
// so that it is not taken for whole.
func ServeCSV(ctx context.Context, w http.ResponseWriter, st *store.Store, id string, f Filter) (started bool, err error) {
	head, err := CSVHeader(ctx, st, id, f)
	if err != nil {
		return false, err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+`-results.csv"`)
	return true, WriteCSV(ctx, w, st, id, f, head)
}
