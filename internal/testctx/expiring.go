package testctx

import (
	"context"
	"sync"
)

// Expiring is a context whose deadline passes when Expire is called: a
// timeout that runs out after an event rather than after a fixed time.
type Expiring struct {
	context.Context
	done chan struct{}
	once sync.Once
}

// NewExpiring returns a context that expires when told to.
func NewExpiring() *Expiring {
	return &Expiring{Context: context.Background(), done: make(chan struct{})}
}

// Done implements context.Context.
func (e *Expiring) Done() <-chan struct{} { return e.done }

// Err implements context.Context.
func (e *Expiring) Err() error {
	select {
	case <-e.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// Expire makes the deadline pass; calling it again does nothing.
func (e *Expiring) Expire() { e.once.Do(func() { close(e.done) }) }
