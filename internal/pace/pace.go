// Package pace lets background work give way to people using the pages.
// The web server counts the page requests it is serving; the background
// services wait a moment between steps while any are.
package pace

import (
	"context"
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
