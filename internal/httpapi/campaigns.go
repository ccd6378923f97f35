package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/mmlite/mmlite/internal/readlimit"
	"github.com/mmlite/mmlite/internal/strictjson"
	"github.com/mmlite/mmlite/producer"
)

// addRecipients: POST /v1/campaigns/{id}/recipients with CSV or JSON Lines.
func (s *Server) addRecipients(w http.ResponseWriter, r *http.Request) {
	c, err := s.cfg.Producer.Store().Campaigns.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "text/csv" && !jsonLines[mt] {
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type must be text/csv or application/x-ndjson, got %q", r.Header.Get("Content-Type")))
		return
	}
	release, err := s.waitIntake(r.Context())
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	defer release()
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload)
	var src producer.Source
	if mt == "text/csv" {
		br := bufio.NewReader(body)
		if producer.LooksLikeJSON(br) != 0 { // no CSV header starts so
			writeError(w, http.StatusBadRequest, "the body looks like JSON, not CSV: send JSON Lines (one recipient object per line) with Content-Type: application/x-ndjson")
			return
		}
		src = producer.NewCSVSource(br)
	} else {
		js := producer.NewJSONLSource(body)
		if err := firstLine(r.Context(), js); err != nil {
			s.fail(w, err, nil)
			return
		}
		src = js
	}
	sum, err := s.cfg.Producer.Enqueue(r.Context(), c, src, producer.Options{})
	if err != nil {
		s.fail(w, requestErr(err), sum)
		return
	}
	writeJSON(w, http.StatusAccepted, sum)
}

// firstLine refuses a JSON Lines body whose first line is no JSON object
// (a CSV sent as JSON Lines, say) before anything is enqueued, saying how
// to send it; every line would be a rejected row. An empty body is
// refused too, as an empty CSV is.
func firstLine(ctx context.Context, src *producer.JSONLSource) error {
	err := src.ReadFirst()
	var nj *producer.NotJSONLinesError
	switch {
	case err == nil:
		return nil
	case err == io.EOF: // refused as an empty CSV is
		return bad("%v", producer.ErrEmptyJSONL)
	case ctx.Err() != nil: // as Enqueue says it
		return context.Cause(ctx)
	case !errors.As(err, &nj):
		return requestErr(&producer.InputError{Err: err})
	}
	return bad("%v: %s", err, nj.Hint("send it with Content-Type: text/csv"))
}

// jsonLines are the media types of a JSON Lines recipients file.
var jsonLines = map[string]bool{"application/x-ndjson": true, "application/jsonl": true,
	"application/x-jsonlines": true, "application/jsonlines": true}

// recipientsType says whether a Content-Type is that of a recipients file
// (CSV, JSON Lines) or a form upload: what POST /v1/campaigns/{id}/recipients
// or the console takes, never a campaign's JSON.
func recipientsType(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "text/csv" || jsonLines[mt] || mt == "multipart/form-data"
}

// getCampaign: GET /v1/campaigns/{id}.
func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.Producer.Store().Campaigns.Live(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func expectDelim(d *json.Decoder, want json.Delim, msg string) error {
	tok, err := d.Token()
	if err != nil {
		return jsonErr(err, "")
	}
	if tok != want {
		return bad("%s", msg)
	}
	return nil
}

// jsonErr says where a JSON document went wrong.
func jsonErr(err error, field string) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	var se *json.SyntaxError
	var tl *readlimit.TooLargeError
	at := ""
	if field != "" {
		at = field + ": "
	}
	switch {
	case errors.As(err, &tl) && field == "":
		return bad("a JSON value of the body is %v", tl)
	case errors.As(err, &tl):
		return bad("%s%v", at, tl)
	case errors.As(err, &se):
		return bad("%sinvalid JSON at byte %d: %v", at, se.Offset, se)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return bad("%sthe JSON ends too early", at)
	}
	return bad("%s%s", at, strictjson.Describe(err)) // a value of the wrong type is named by field
}

// requestErr marks a problem with the request's rows (a bad CSV header,
// broken JSON) as the client's; storage failures stay server errors.
func requestErr(err error) error {
	var ie *producer.InputError
	var tooBig *http.MaxBytesError
	if errors.As(err, &ie) && !errors.As(err, &tooBig) {
		return badRequest{err}
	}
	return err
}
