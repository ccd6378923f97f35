package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/mmlite/mmlite/internal/httpserve"
	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/internal/results"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/internal/strictjson"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/producer"
)

// badCursor answers a list's cursor that no page gave.
func badCursor(w http.ResponseWriter, cursor string) {
	writeError(w, http.StatusBadRequest, httpserve.BadCursor(cursor))
}

// listCampaigns: GET /v1/campaigns?state=&limit=&cursor=, newest first.
func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request) {
	o, err := httpserve.ListQuery(r.URL.Query()) // takesParams read the query whole
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	page, err := s.store().Campaigns.List(r.Context(), o)
	if errors.Is(err, store.ErrBadCursor) {
		badCursor(w, o.Cursor)
		return
	}
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// getRecipient: GET /v1/campaigns/{id}/recipients/{to}.
func (s *Server) getRecipient(w http.ResponseWriter, r *http.Request) {
	to, err := phone.Normalize(r.PathValue("to"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "to: "+err.Error())
		return
	}
	where, err := s.store().Recipient(r.Context(), r.PathValue("id"), to)
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, where)
}

// getResults: GET /v1/campaigns/{id}/results?status=...&code=...: the final
// results, as JSON Lines (the mmlite:result payloads) or, with Accept:
// text/csv, as a CSV that mmlite enqueue reads again. Both stream.
func (s *Server) getResults(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c, err := s.store().Campaigns.Get(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	q := r.URL.Query()
	f, err := results.ParseFilter(q["status"], q["code"])
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	csv, err := wantsCSV(r.Header.Get("Accept"))
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	if !csv {
		w.Header().Set("Content-Type", "application/x-ndjson")
		s.stream(w, c.ID, results.WriteJSONL(ctx, w, s.store(), c, f))
		return
	}
	_, err = results.ServeCSV(ctx, w, s.store(), c.ID, f)
	s.stream(w, c.ID, err)
}

// stream ends a streamed answer. Once rows are written the status cannot
// change: a failure aborts the answer, so that the client sees it broken
// off rather than complete.
func (s *Server) stream(w http.ResponseWriter, id string, err error) {
	if err == nil {
		return
	}
	if sw, ok := w.(*statusWriter); ok && !sw.wrote {
		s.fail(w, err, nil)
		return
	}
	s.log.Error("results export broken off", "campaign", id, "err", err)
	panic(http.ErrAbortHandler)
}

// wantsCSV says whether Accept asks for the CSV rather than the JSON Lines,
// weighed as HTTP says: each type takes the q of the most specific range
// that matches it (text/csv, text/*, */*; application/x-ndjson or another
// of JSON Lines' names, application/*, */*), and the CSV is sent when its weight is above 0 and
// above the JSON Lines', or equal to it and named (text/csv or text/*, not
// only */*). A weight that is no number from 0 to 1, or parameters that
// cannot be read, of a range that matters, is an error naming it.
func wantsCSV(accept string) (bool, error) {
	var csv, jsonl weight
	for _, part := range strings.Split(accept, ",") {
		part = strings.TrimSpace(part)
		mt, params, err := mime.ParseMediaType(part)
		switch {
		case specificity(mt, "text/csv")+specificity(mt, "application/x-ndjson") == 0 && !jsonLines[mt]:
			continue // no range of a type sent here: it asks for nothing here
		case err != nil:
			return false, bad("Accept: %q: its parameters cannot be read", part)
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil || !(q >= 0 && q <= 1) { // NaN too
				return false, bad("Accept: %q: q must be a number from 0 to 1", part)
			}
		}
		csv.match(mt, "text/csv", q)
		if jsonLines[mt] { // by any of its names (see recipientsType)
			jsonl.match(mt, mt, q)
		} else {
			jsonl.match(mt, "application/x-ndjson", q)
		}
	}
	return csv.q > 0 && (csv.q > jsonl.q || csv.q == jsonl.q && csv.specific > 1), nil
}

// weight is the q a type takes from Accept: that of the most specific
// range that matches it (specific: 0 none, 1 */*, 2 type/*, 3 the type).
type weight struct {
	q        float64
	specific int
}

func (w *weight) match(mediaRange, typ string, q float64) {
	if specific := specificity(mediaRange, typ); specific > w.specific {
		w.q, w.specific = q, specific
	}
}

// specificity is how closely mediaRange matches typ: 3 typ itself, 2
// its type/*, 1 */*, 0 not at all.
func specificity(mediaRange, typ string) int {
	major, _, _ := strings.Cut(typ, "/")
	switch mediaRange {
	case typ:
		return 3
	case major + "/*":
		return 2
	case "*/*":
		return 1
	}
	return 0
}

// followUp: POST /v1/campaigns/{id}/follow-up.
func (s *Server) followUp(w http.ResponseWriter, r *http.Request) {
	f, err := decodeSmall[producer.FollowUp](s, w, r, followUpBody)
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	sum, err := s.cfg.Producer.FollowUp(r.Context(), r.PathValue("id"), f)
	if err != nil {
		s.fail(w, err, sum)
		return
	}
	writeJSON(w, http.StatusAccepted, sum)
}

// testBody is the body of POST /v1/campaigns/{id}/test.
type testBody struct {
	To         string            `json:"to"`
	Components []mmapi.Component `json:"components,omitempty"`
}

// smallBody is what decodeSmall knows of a body's type.
type smallBody struct {
	shape *strictjson.Shape // the type's (strictjson.ShapeOf), built once
	// components is the path of its components ("template.components"),
	// and times are its time fields: a bad one is named, as its own error
	// (mmapi.ComponentError, time.Time's) does not.
	components string
	times      []string
	// tooLarge is the advice of a 413: the body is over MaxValue.
	tooLarge string
}

// The bodies decodeSmall reads.
var (
	followUpBody = smallBody{shape: strictjson.ShapeOf[producer.FollowUp](), components: "template.components",
		times:    []string{"send_at", "expires_at"},
		tooLarge: "a follow-up is one small JSON object (id, statuses, codes, template, send_at, expires_at): check what is sent"}
	testSendBody = smallBody{shape: strictjson.ShapeOf[testBody](), components: "components",
		tooLarge: `a test send is one recipient {"to", "components"}: check what is sent`}
)

// testSend: POST /v1/campaigns/{id}/test: one message to one number,
// through a worker, answered with the API's answer.
func (s *Server) testSend(w http.ResponseWriter, r *http.Request) {
	b, err := decodeSmall[testBody](s, w, r, testSendBody)
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	res, err := s.cfg.Producer.TestSend(r.Context(), r.PathValue("id"), producer.Recipient{To: b.To, Components: b.Components},
		producer.DefaultTestWait)
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// decodeSmall reads a JSON object of at most MaxValue bytes strictly: an
// unknown field, a key repeated in one object or given in another case
// ("TO") and text that is not UTF-8 are refused, as in a campaign. body
// describes T.
func decodeSmall[T any](s *Server, w http.ResponseWriter, r *http.Request, body smallBody) (T, error) {
	var v T
	in, err := skipBOM(http.MaxBytesReader(w, r.Body, s.cfg.MaxValue))
	if err != nil {
		return v, err
	}
	b, err := io.ReadAll(in)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return v, tooLarge{tooBig, body.tooLarge}
	case err != nil:
		return v, jsonErr(err, "")
	case len(bytes.TrimSpace(b)) == 0:
		return v, bad("the body is empty: it must be a JSON object")
	}
	err = strictjson.Unmarshal(b, body.shape, &v)
	var se *strictjson.Error
	var tr *strictjson.TrailingError
	var ce *mmapi.ComponentError
	switch {
	case err == nil:
		return v, nil
	case errors.As(err, &tr):
		return v, bad("trailing data after the JSON object: the body is one JSON object")
	case errors.As(err, &se):
		return v, bad("%v", err)
	case errors.As(err, &ce):
		return v, bad("%s", ce.At(b, body.components))
	}
	if field, val, _, ok := strictjson.BadTime(b, body.times...); ok {
		return v, bad("%s: %s, got %s", field, strictjson.WantTime, val)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return v, bad("%s", strictjson.DescribeIn(b, err)) // names an element of statuses or codes
	}
	return v, jsonErr(err, "")
}
