package fakeapi

import (
	"encoding/json"
	"maps"
	"net/http"
	"sync"
	"time"
)

// defaultMaxRecords caps Requests so that a long demo cannot eat memory.
const defaultMaxRecords = 2_000_000

// Request is one recorded POST to a send endpoint.
type Request struct {
	At     time.Time       `json:"at"`             // arrival time
	Key    string          `json:"key"`            // API key or bearer token that sent it
	To     string          `json:"to"`             // "to" of the body, as sent
	Body   json.RawMessage `json:"body"`           // raw body as received; shared, do not modify
	Status int             `json:"status"`         // HTTP status answered, 0 for reset and hang
	Code   int             `json:"code,omitempty"` // Meta error code answered, 0 if none
	WAMID  string          `json:"wamid,omitempty"`
}

// Stats are counters over all requests to the send endpoints since the
// Server was created or last reset.
type Stats struct {
	Requests int64            `json:"requests"` // POSTs to a send endpoint
	Accepted int64            `json:"accepted"` // answered 200
	Rejected int64            `json:"rejected"` // anything else, including reset and hang
	ByCode   map[string]int64 `json:"by_code"`  // rejections by Meta code ("131026"), "http_<status>" for code-less answers, "rate_limit" (360dialog's answer), "reset", "hang"
	// Recipients is the number of distinct recipients accepted at least once.
	Recipients int `json:"recipients"`
	// Duplicates is the number of recipients accepted more than once.
	Duplicates int `json:"duplicates"`
	// WebhooksPosted counts webhook POSTs that succeeded.
	WebhooksPosted int64 `json:"webhooks_posted"`
	// StatusesPosted counts the status events in those POSTs.
	StatusesPosted int64 `json:"statuses_posted"`
	// WebhookErrors counts webhook POSTs that failed after their retries,
	// plus status events dropped because the queue was full.
	WebhookErrors int64 `json:"webhook_errors"`
}

// answer is what handleSend tells the recorder about one request.
type answer struct {
	at             time.Time
	key, to        string
	body           []byte
	record         bool // passed auth and JSON decoding: keep in Requests
	status, code   int
	statKey, wamid string
}

// recorder keeps records and counters; safe for concurrent use.
type recorder struct {
	mu       sync.Mutex
	max      int
	buf      []Request // ring once len(buf) == max
	head     int       // index of the oldest record when full
	stats    Stats
	sends    map[string]int
	attempts map[string]int
}

func newRecorder(max int) *recorder {
	r := &recorder{max: max}
	r.clear()
	return r
}

// clear drops all records and counters; callers hold mu or own r.
func (r *recorder) clear() {
	r.buf, r.head = nil, 0
	r.stats = Stats{ByCode: make(map[string]int64)}
	r.sends = make(map[string]int)
	r.attempts = make(map[string]int)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clear()
}

func (r *recorder) add(a answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Requests++
	if a.to != "" {
		r.attempts[a.to]++
	}
	if a.status == http.StatusOK {
		r.stats.Accepted++
		r.sends[a.to]++
		switch r.sends[a.to] {
		case 1:
			r.stats.Recipients++
		case 2:
			r.stats.Duplicates++
		}
	} else {
		r.stats.Rejected++
		r.stats.ByCode[a.statKey]++
	}
	if !a.record {
		return
	}
	rec := Request{At: a.at, Key: a.key, To: a.to, Body: a.body, Status: a.status, Code: a.code, WAMID: a.wamid}
	if len(r.buf) < r.max {
		r.buf = append(r.buf, rec)
		return
	}
	r.buf[r.head] = rec
	r.head = (r.head + 1) % r.max
}

// each calls fn on every record, oldest first; callers hold mu.
func (r *recorder) each(fn func(*Request)) {
	for i := range r.buf {
		fn(&r.buf[(r.head+i)%len(r.buf)])
	}
}

func (r *recorder) webhook(posted, statuses, errs int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.WebhooksPosted += posted
	r.stats.StatusesPosted += statuses
	r.stats.WebhookErrors += errs
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	st := s.rec.stats
	st.ByCode = maps.Clone(st.ByCode)
	return st
}

// Sends returns how many requests for recipient to were accepted (HTTP 200).
func (s *Server) Sends(to string) int {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	return s.rec.sends[to]
}

// Attempts returns how many POSTs for recipient to arrived, whatever the
// answer (including resets and hangs).
func (s *Server) Attempts(to string) int {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	return s.rec.attempts[to]
}

// Requests returns a copy of the recorded requests (every POST that passed
// auth and JSON decoding), oldest first. At most the last 2,000,000 are
// kept.
func (s *Server) Requests() []Request {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	out := make([]Request, 0, len(s.rec.buf))
	s.rec.each(func(r *Request) { out = append(out, *r) })
	return out
}

// AcceptedTimes returns the arrival times of the accepted requests sent
// with key ("" = any key), oldest first, for rate measurements.
func (s *Server) AcceptedTimes(key string) []time.Time {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	var out []time.Time
	s.rec.each(func(r *Request) {
		if r.Status == http.StatusOK && (key == "" || r.Key == key) {
			out = append(out, r.At)
		}
	})
	return out
}

// Reset clears the records and counters and gives every key a fresh rate
// limit bucket. Pending webhooks are kept.
func (s *Server) Reset() {
	s.rec.reset()
	s.resetLimiters()
}
