package fakeapi

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Webhook dispatch limits.
const (
	defaultMaxPending = 1 << 19                // status events waiting to be due
	defaultFlushEvery = 100 * time.Millisecond // the dispatcher posts due events at least this often
	maxBatch          = 100                    // statuses per POST
	webhookRetries    = 3                      // retries after a failed POST
	retryBackoff      = 50 * time.Millisecond  // doubled on each retry
)

// event is one status webhook waiting to be due.
type event struct {
	due      time.Time
	seq      uint64
	wamid    string
	to       string
	status   string
	category string
}

// eventHeap orders events by due time, then by scheduling order.
type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// eventQueue is a bounded, mutex-protected heap of pending events.
type eventQueue struct {
	mu  sync.Mutex
	h   eventHeap
	seq uint64
	max int
}

func newEventQueue(max int) *eventQueue { return &eventQueue{max: max} }

// push adds all events, or none when they do not fit.
func (q *eventQueue) push(evs []event) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.h)+len(evs) > q.max {
		return false
	}
	for _, e := range evs {
		q.seq++
		e.seq = q.seq
		heap.Push(&q.h, e)
	}
	return true
}

// popDue removes and returns the events due at now, in order.
func (q *eventQueue) popDue(now time.Time) []event {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []event
	for len(q.h) > 0 && !q.h[0].due.After(now) {
		out = append(out, heap.Pop(&q.h).(event))
	}
	return out
}

func (q *eventQueue) drop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.h = nil
}

// schedule queues the status events of a message accepted at at. It never
// blocks: when the queue is full the events are dropped and counted.
func (s *Server) schedule(st *settings, at time.Time, to, wamid string) {
	if !s.dispatching.Load() || st.cfg.WebhookURL == "" {
		return
	}
	d := st.webhookDelay
	evs := make([]event, 1, 3)
	evs[0] = event{due: at.Add(d), wamid: wamid, to: to, status: "sent", category: st.category}
	if s.float() < st.deliveredShare {
		evs = append(evs, event{due: at.Add(2 * d), wamid: wamid, to: to, status: "delivered", category: st.category})
		if s.float() < st.readShare {
			evs = append(evs, event{due: at.Add(3 * d), wamid: wamid, to: to, status: "read"})
		}
	}
	if !s.queue.push(evs) {
		s.rec.webhook(0, 0, int64(len(evs)))
	}
}

// dispatch posts due events in batches until ctx is done.
func (s *Server) dispatch(ctx context.Context) {
	defer s.wg.Done()
	defer s.queue.drop()
	defer s.dispatching.Store(false)
	t := time.NewTicker(s.flushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		due := s.queue.popDue(time.Now())
		for len(due) > 0 && ctx.Err() == nil {
			n := min(len(due), maxBatch)
			s.deliver(ctx, due[:n])
			due = due[n:]
		}
	}
}

// deliver posts one batch of statuses.
func (s *Server) deliver(ctx context.Context, batch []event) {
	st := s.settings.Load()
	if st.cfg.WebhookURL == "" {
		return
	}
	body, _ := json.Marshal(statusPayload(st, batch)) // cannot fail: plain structs
	if err := s.post(ctx, st, body); err != nil {
		if ctx.Err() == nil {
			s.rec.webhook(0, 0, 1)
		}
		return
	}
	s.rec.webhook(1, int64(len(batch)), 0)
}

// PostEvent posts an arbitrary raw webhook body to Config.WebhookURL with
// the same headers and retries as the status webhooks. It works without
// Start and is counted in Stats like them.
func (s *Server) PostEvent(ctx context.Context, body []byte) error {
	st := s.settings.Load()
	if st.cfg.WebhookURL == "" {
		return errors.New("fakeapi: no webhook_url configured")
	}
	if err := s.post(ctx, st, body); err != nil {
		s.rec.webhook(0, 0, 1)
		return err
	}
	s.rec.webhook(1, 0, 0)
	return nil
}

// post sends body, retrying a failed POST a few times with backoff.
func (s *Server) post(ctx context.Context, st *settings, body []byte) error {
	var err error
	for attempt := 0; attempt <= webhookRetries; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(retryBackoff << (attempt - 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("fakeapi: webhook not posted: %w (last error: %v)", ctx.Err(), err)
			case <-t.C:
			}
		}
		if err = s.postOnce(ctx, st, body); err == nil {
			return nil
		}
	}
	return err
}

func (s *Server) postOnce(ctx context.Context, st *settings, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("fakeapi: webhook request: %w", err)
	}
	req.Header.Set("Content-Type", contentJSON)
	if st.cfg.WebhookSecret != "" {
		req.Header.Set("X-Webhook-Secret", st.cfg.WebhookSecret)
	}
	if st.cfg.AppSecret != "" {
		req.Header.Set("X-Hub-Signature-256", Signature(st.cfg.AppSecret, body))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("fakeapi: webhook post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("fakeapi: webhook post: receiver answered %s", resp.Status)
	}
	return nil
}

// Signature returns the X-Hub-Signature-256 value Meta sends with a
// webhook body: "sha256=" and the hex HMAC-SHA256 of body keyed with
// appSecret.
func Signature(appSecret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
