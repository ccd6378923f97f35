package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/mmlite/mmlite/internal/bom"
	"github.com/mmlite/mmlite/internal/readlimit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/producer"
)

// createCampaign: POST /v1/campaigns with {"campaign": {...}, "recipients":
// [...], "open": false}. The body is one JSON object, each key at most once,
// nothing after it. Inline recipients seal the campaign unless "open" is
// true: they are its whole list.
// The recipients are streamed, so that a large array is never held whole:
// rows are enqueued while they are read, and a problem found after them (a
// repeated key, a missing '}', trailing data, a cancel) is answered with
// the summary of what was kept.
// Each JSON value of the body (the campaign, one recipient) is at most
// Config.MaxValue bytes, so that the body costs about that much at a time.
func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); recipientsType(ct) {
		// A recipients file sent here: nothing of it is read (a CSV is no
		// JSON; the first line of JSON Lines would register a campaign
		// without the rest).
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("POST /v1/campaigns takes one JSON object "+
			"(Content-Type application/json), got %q: send a CSV or JSON Lines recipients file to "+
			"POST /v1/campaigns/{id}/recipients once the campaign is created", ct))
		return
	}
	release, err := s.waitIntake(r.Context())
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	defer release()
	body, err := skipBOM(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		s.fail(w, err, nil)
		return
	}
	in := &intake{s: s, ctx: r.Context(), body: body, d: readlimit.NewDecoder(body, s.cfg.MaxValue)}
	if err := in.read(); err != nil {
		s.fail(w, err, in.sum)
		return
	}
	writeJSON(w, http.StatusAccepted, in.sum)
}

// skipBOM reads the start of a JSON body: a UTF-8 byte order mark (which
// Notepad and PowerShell write) reads as white space, three bytes for its
// three, so that the body is read as a campaign file is (campaign.Decode
// skips the mark) and the byte offsets of errors stay those of the body; a
// UTF-16 body is refused, saying so, rather than as an invalid character.
func skipBOM(body io.Reader) (io.Reader, error) {
	br := bufio.NewReader(body)
	start, _ := br.Peek(3)
	utf8Mark := bytes.HasPrefix(start, []byte("\xEF\xBB\xBF"))
	if err := bom.Skip(br); err != nil {
		return nil, bad("the body is UTF-16: send it as UTF-8")
	}
	if utf8Mark {
		return io.MultiReader(strings.NewReader("   "), br), nil
	}
	return br, nil
}

// intake reads one POST /v1/campaigns body.
type intake struct {
	s    *Server
	ctx  context.Context
	body io.Reader // what d reads, for what follows the object
	d    *json.Decoder

	c              *campaign.Campaign
	seenCampaign   bool
	seenRecipients bool
	seenOpen       bool
	open           bool // "open": true keeps the campaign open after inline recipients
	// early holds recipients sent before the campaign, as one JSON array
	// of at most MaxValue bytes; they are enqueued once the body is known
	// whole.
	early []byte
	sum   *producer.Summary // set once rows were enqueued
}

func (in *intake) read() error {
	const object = `a JSON object {"campaign": {...}, "recipients": [...]}`
	tok, err := in.d.Token()
	var number *json.UnmarshalTypeError // a number beyond float64, 1e400
	switch {
	case errors.Is(err, io.EOF):
		return bad("the body is empty: it must be %s", object)
	case errors.As(err, &number):
		return bad("the body must be %s", object)
	case err != nil:
		return jsonErr(err, "")
	case tok != json.Delim('{'):
		return bad("the body must be %s", object)
	}
	for in.d.More() {
		key, err := in.d.Token()
		if err != nil {
			return jsonErr(err, "")
		}
		k, _ := key.(string) // the decoder allows only strings as keys
		if err := in.field(k); err != nil {
			return err
		}
	}
	if err := in.end(); err != nil {
		return err
	}
	if in.c == nil {
		return bad("campaign is required")
	}
	if in.early != nil {
		if err := in.enqueue(earlySource(in.early)); err != nil {
			return err
		}
	}
	if in.sum == nil {
		in.sum = &producer.Summary{CampaignID: in.c.ID, Errors: []producer.RowError{}}
	}
	// Inline recipients are the whole list unless the body says more come.
	if in.seenRecipients && !in.open {
		if _, err := in.s.cfg.Producer.Seal(in.ctx, in.c.ID); err != nil {
			return err
		}
	}
	return nil
}

// field reads the value of one key. A key seen twice is refused before its
// value is read: a second campaign is never registered, a second array
// never enqueued.
func (in *intake) field(k string) error {
	switch k {
	case "campaign":
		if in.seenCampaign {
			return bad("%q appears twice: the body has one \"campaign\" and one \"recipients\"", k)
		}
		in.seenCampaign = true
		c, err := in.s.register(in.ctx, in.d)
		in.c = c
		return err
	case "recipients":
		if in.seenRecipients {
			return bad("%q appears twice: the body has one \"campaign\" and one \"recipients\"", k)
		}
		in.seenRecipients = true
		if err := expectDelim(in.d, '[', "recipients must be an array"); err != nil {
			return err
		}
		if in.c == nil {
			return in.buffer()
		}
		err := in.enqueue(producer.NewArraySource(in.d))
		var ie *producer.InputError
		if errors.As(err, &ie) && errors.Is(ie.Err, io.EOF) { // the body ended where ']' or a row should be
			return bad("recipients: the JSON ends too early: missing ']'")
		}
		return err
	case "open":
		if in.seenOpen {
			return bad("%q appears twice", k)
		}
		in.seenOpen = true
		if err := in.d.Decode(&in.open); err != nil {
			return jsonErr(err, "open")
		}
		return nil
	}
	return bad("unknown field %q: want \"campaign\", \"recipients\" and \"open\"", k)
}

// buffer reads an array of recipients that came before their campaign,
// up to MaxValue bytes of them (as if the array were one value): a longer
// list must come after "campaign", where it is streamed.
func (in *intake) buffer() error {
	in.early = append(make([]byte, 0, 4<<10), '[')
	for n := 0; in.d.More(); n++ {
		var raw json.RawMessage
		if err := in.d.Decode(&raw); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return bad("recipients: the JSON ends too early: missing ']'")
			}
			return jsonErr(err, fmt.Sprintf("recipients[%d]", n))
		}
		if limit := in.s.cfg.MaxValue; int64(len(in.early)+len(raw)+2) > limit {
			return bad("recipients: more than %d bytes of recipients before \"campaign\": send \"campaign\" first, and the list is read as it comes, up to MMLITE_MAX_BODY", limit)
		}
		if n > 0 {
			in.early = append(in.early, ',')
		}
		in.early = append(in.early, raw...)
	}
	in.early = append(in.early, ']')
	if _, err := in.d.Token(); err != nil { // ']'
		if errors.Is(err, io.EOF) {
			return bad("recipients: the JSON ends too early: missing ']'")
		}
		return jsonErr(err, "recipients")
	}
	return nil
}

func (in *intake) enqueue(src producer.Source) error {
	sum, err := in.s.cfg.Producer.Enqueue(in.ctx, in.c, src, producer.Options{})
	in.sum = sum
	if err != nil {
		return requestErr(err)
	}
	return nil
}

// end reads the object's '}' and what follows it, which may only be white
// space.
func (in *intake) end() error {
	tok, err := in.d.Token()
	switch {
	case errors.Is(err, io.EOF):
		return bad("the JSON ends too early: missing '}'")
	case err != nil:
		return jsonErr(err, "")
	case tok != json.Delim('}'):
		return bad("invalid JSON at byte %d: want '}'", in.d.InputOffset())
	}
	off := in.d.InputOffset()
	r := bufio.NewReader(io.MultiReader(in.d.Buffered(), in.body))
	for ; ; off++ {
		c, err := r.ReadByte()
		var tooBig *http.MaxBytesError
		switch {
		case err == io.EOF:
			return nil
		case errors.As(err, &tooBig):
			return err
		case err != nil:
			return bad("the body could not be read to its end: %v", err)
		case c != ' ' && c != '\t' && c != '\n' && c != '\r':
			return bad("trailing data after the JSON object at byte %d: the body is one JSON object", off)
		}
	}
}

// register decodes the campaign strictly and stores it.
func (s *Server) register(ctx context.Context, d *json.Decoder) (*campaign.Campaign, error) {
	var raw json.RawMessage
	if err := d.Decode(&raw); err != nil {
		return nil, jsonErr(err, "campaign")
	}
	c, err := campaign.Decode(raw)
	if err != nil {
		return nil, badRequest{err}
	}
	if _, err := s.cfg.Producer.Register(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// earlySource reads the recipients that arrived before their campaign; a
// row's line is its index in the array, as in the streamed case.
func earlySource(array []byte) producer.Source {
	d := json.NewDecoder(bytes.NewReader(array))
	_, _ = d.Token() // '[': the array was read once already
	return producer.NewArraySource(d)
}
