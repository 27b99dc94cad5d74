package pace_test

import (
	"context"
	"testing"
	"time"

	"admincenter/internal/pace"
)

func TestYieldWaitsOnlyWhileRequestsAreInFlight(t *testing.T) {
	var p pace.Pacer
	took := func(ctx context.Context) time.Duration {
		start := time.Now()
		p.Yield(ctx)
		return time.Since(start)
	}
	if d := took(context.Background()); d > 30*time.Millisecond {
		t.Fatalf("idle: Yield took %v", d)
	}
	p.Begin()
	if d := took(context.Background()); d < 40*time.Millisecond {
		t.Fatalf("a request in flight: Yield took only %v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if d := took(ctx); d > 30*time.Millisecond {
		t.Fatalf("ended context: Yield took %v", d)
	}
	p.End()
	if d := took(context.Background()); d > 30*time.Millisecond {
		t.Fatalf("the request done: Yield took %v", d)
	}
}

// Signals sent while nobody listens come as one, and sending never waits.
func TestSignal(t *testing.T) {
	var s pace.Signal
	s.Notify()
	s.Notify()
	select {
	case <-s.C():
	default:
		t.Fatal("no signal after Notify")
	}
	select {
	case <-s.C():
		t.Fatal("two signals for two Notify calls before anyone listened")
	default:
	}
}
