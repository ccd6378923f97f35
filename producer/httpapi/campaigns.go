package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/producer"
)

// createCampaign: POST /v1/campaigns with {"campaign": {...}, "recipients": [...]}.
// The recipients are streamed, so that a large array is never held whole.
func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request) {
	d := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err := expectDelim(d, '{', "the body must be a JSON object {\"campaign\": {...}, \"recipients\": [...]}"); err != nil {
		s.fail(w, err, nil)
		return
	}
	var c *campaign.Campaign
	var early []json.RawMessage // recipients sent before the campaign
	var sum *producer.Summary
	for d.More() {
		key, err := d.Token()
		if err != nil {
			s.fail(w, jsonErr(err, ""), sum)
			return
		}
		switch key {
		case "campaign":
			if c, err = s.register(r, d); err != nil {
				s.fail(w, err, nil)
				return
			}
		case "recipients":
			if c == nil {
				if err := d.Decode(&early); err != nil {
					s.fail(w, jsonErr(err, "recipients"), nil)
					return
				}
				continue
			}
			if err := expectDelim(d, '[', "recipients must be an array"); err != nil {
				s.fail(w, err, nil)
				return
			}
			if sum, err = s.cfg.Producer.Enqueue(r.Context(), c, producer.NewArraySource(d), producer.Options{}); err != nil {
				s.fail(w, requestErr(err), sum)
				return
			}
		default:
			s.fail(w, bad("unknown field %q: want \"campaign\" and \"recipients\"", key), sum)
			return
		}
	}
	if c == nil {
		s.fail(w, bad("campaign is required"), nil)
		return
	}
	if early != nil {
		var err error
		if sum, err = s.cfg.Producer.Enqueue(r.Context(), c, newRawSource(early), producer.Options{}); err != nil {
			s.fail(w, requestErr(err), sum)
			return
		}
	}
	if sum == nil {
		sum = &producer.Summary{CampaignID: c.ID, Errors: []producer.RowError{}}
	}
	writeJSON(w, http.StatusAccepted, sum)
}

// register decodes the campaign strictly and stores it.
func (s *Server) register(r *http.Request, d *json.Decoder) (*campaign.Campaign, error) {
	var raw json.RawMessage
	if err := d.Decode(&raw); err != nil {
		return nil, jsonErr(err, "campaign")
	}
	c, err := campaign.Decode(raw)
	if err != nil {
		return nil, badRequest{err}
	}
	if _, err := s.cfg.Producer.Register(r.Context(), c); err != nil {
		return nil, err
	}
	return c, nil
}

// addRecipients: POST /v1/campaigns/{id}/recipients with CSV or JSON Lines.
func (s *Server) addRecipients(w http.ResponseWriter, r *http.Request) {
	c, err := s.cfg.Producer.Store().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload)
	var src producer.Source
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "text/csv":
		src = producer.NewCSVSource(body)
	case "application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines":
		src = producer.NewJSONLSource(body)
	default:
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type must be text/csv or application/x-ndjson, got %q", r.Header.Get("Content-Type")))
		return
	}
	sum, err := s.cfg.Producer.Enqueue(r.Context(), c, src, producer.Options{})
	if err != nil {
		s.fail(w, requestErr(err), sum)
		return
	}
	writeJSON(w, http.StatusAccepted, sum)
}

// getCampaign: GET /v1/campaigns/{id}.
func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.Producer.Store().Status(r.Context(), r.PathValue("id"))
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
	var te *json.UnmarshalTypeError
	at := ""
	if field != "" {
		at = field + ": "
	}
	switch {
	case errors.As(err, &se):
		return bad("%sinvalid JSON at byte %d: %v", at, se.Offset, se)
	case errors.As(err, &te):
		return bad("%s%s: want %s, got %s", at, te.Field, te.Type, te.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return bad("%sthe JSON ends too early", at)
	}
	return bad("%s%s", at, strings.TrimPrefix(err.Error(), "json: "))
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

// rawSource reads recipients that arrived before their campaign.
type rawSource struct {
	rows []json.RawMessage
	i    int
}

func newRawSource(rows []json.RawMessage) *rawSource { return &rawSource{rows: rows} }

func (s *rawSource) Next() (producer.Recipient, int, error) {
	if s.i >= len(s.rows) {
		return producer.Recipient{}, 0, io.EOF
	}
	i := s.i
	s.i++
	d := json.NewDecoder(bytes.NewReader(append([]byte("["), append(s.rows[i], ']')...)))
	_, _ = d.Token()
	src := producer.NewArraySource(d)
	r, _, err := src.Next()
	var re *producer.RowError
	if errors.As(err, &re) {
		re.Line = i
		return r, i, re
	}
	return r, i, err
}
