package catalog

import (
	"context"
	"math/rand/v2"
	"time"
)

// pacing is how a Worker or a Follower repeats its step.
type pacing struct {
	poll, minBackoff, maxBackoff time.Duration
	wake                         <-chan struct{} // Notify: a change is waiting
	// failed is told of each failed step and how long the loop waits before the next.
	failed func(ctx context.Context, err error, wait time.Duration)
}

// run calls step until ctx ends, then returns nil: again at once after a step that applied
// something, after the poll interval (or sooner when woken) after one that found nothing,
// and after a failure with exponential backoff, jittered over its upper half so that several
// instances do not retry in step, during which wake-ups are ignored.
func (p pacing) run(ctx context.Context, step func(context.Context) (int, error)) error {
	backoff := time.Duration(0)
	timer := time.NewTimer(0)
	<-timer.C
	defer timer.Stop()
	for {
		n, err := step(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var wait time.Duration
		wake := p.wake
		switch {
		case err != nil:
			backoff = min(max(2*backoff, p.minBackoff), p.maxBackoff)
			wait = backoff/2 + rand.N(backoff/2+1)
			wake = nil
			p.failed(ctx, err, wait)
		case n > 0:
			backoff = 0
			continue
		default:
			backoff = 0
			wait = p.poll
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-wake:
			if !timer.Stop() {
				<-timer.C
			}
		}
	}
}

// drain calls step until it applies nothing or fails, and returns how many changes it applied.
func drain(ctx context.Context, step func(context.Context) (int, error)) (int, error) {
	total := 0
	for {
		n, err := step(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// applyChanges hands one batch to an engine and waits until it is searchable.
func applyChanges(ctx context.Context, engine Engine, docs []Document, ids []string) error {
	if len(docs) > 0 {
		if err := engine.Upsert(ctx, docs...); err != nil {
			return err
		}
	}
	if len(ids) > 0 {
		if err := engine.Delete(ctx, ids...); err != nil {
			return err
		}
	}
	return engine.Wait(ctx)
}
