// Package pace lets background work give way to people using the pages.
// The web server counts the page requests it is serving; the background
// services wait a moment between steps while any are.
package pace

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// pause is how long background work waits, per step, while people are
// using the pages: it keeps going, at a fraction of its pace.
const pause = 50 * time.Millisecond

// Pacer counts the page requests in flight. The zero value is ready.
type Pacer struct {
	inFlight atomic.Int64
}

// Begin counts a page request in; End counts it out.
func (p *Pacer) Begin() { p.inFlight.Add(1) }

// End counts out a request counted in by Begin.
func (p *Pacer) End() { p.inFlight.Add(-1) }

// Yield waits a moment, or until ctx ends, when page requests are being
// served; otherwise it returns at once.
func (p *Pacer) Yield(ctx context.Context) {
	if p.inFlight.Load() == 0 {
		return
	}
	t := time.NewTimer(pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Signal wakes a background loop when new work is recorded, so that it
// need not wait for its next tick. Signals sent while the loop is busy
// come as one. The zero value is ready.
type Signal struct {
	once sync.Once
	c    chan struct{}
}

// C receives a signal.
func (s *Signal) C() <-chan struct{} { return s.ch() }

// Notify sends a signal, without waiting.
func (s *Signal) Notify() {
	select {
	case s.ch() <- struct{}{}:
	default:
	}
}

func (s *Signal) ch() chan struct{} {
	s.once.Do(func() { s.c = make(chan struct{}, 1) })
	return s.c
}
