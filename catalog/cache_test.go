package catalog_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ziyuan/catalog"
)

// countingEngine answers every search with the number of searches it has run.
type countingEngine struct {
	catalog.Engine
	searches int
}

func (c *countingEngine) Search(context.Context, catalog.Query) (catalog.Result, error) {
	c.searches++
	return catalog.Result{Total: c.searches}, nil
}
func (c *countingEngine) Upsert(context.Context, ...catalog.Document) error { return nil }
func (c *countingEngine) Wait(context.Context) error                        { return nil }

func TestCachedSearchExpiresAndInvalidates(t *testing.T) {
	inner := &countingEngine{}
	c := catalog.NewCached(inner, 2, 50*time.Millisecond)
	ctx := context.Background()
	q := catalog.Query{Text: "勾股", Page: 1, PerPage: 20}
	for range 3 {
		if r, _ := c.Search(ctx, q); r.Total != 1 {
			t.Fatalf("repeated query reached the engine: %d", r.Total)
		}
	}
	if r, _ := c.Search(ctx, catalog.Query{Text: "光合", Page: 1, PerPage: 20}); r.Total != 2 {
		t.Fatalf("another query was answered from the cache: %d", r.Total)
	}
	c.Upsert(ctx, catalog.Document{ID: "x"})
	if r, _ := c.Search(ctx, q); r.Total != 3 {
		t.Fatalf("a write did not clear the cache: %d", r.Total)
	}
	time.Sleep(60 * time.Millisecond)
	if r, _ := c.Search(ctx, q); r.Total != 4 {
		t.Fatalf("an entry outlived its TTL: %d", r.Total)
	}
	if hr := c.HitRate(); hr <= 0 || hr >= 1 {
		t.Fatalf("hit rate %v", hr)
	}
}

// gatedEngine blocks every search until its gate opens and counts the searches it ran.
type gatedEngine struct {
	catalog.Engine
	gate     chan struct{}
	searches atomic.Int64
}

func (g *gatedEngine) Search(ctx context.Context, q catalog.Query) (catalog.Result, error) {
	n := g.searches.Add(1)
	select {
	case <-g.gate:
		return catalog.Result{Total: int(n)}, nil
	case <-ctx.Done():
		return catalog.Result{}, ctx.Err()
	}
}
func (g *gatedEngine) Upsert(context.Context, ...catalog.Document) error { return nil }

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCachedSearchSharesOneSearchPerQuery(t *testing.T) {
	ctx := context.Background()
	q := catalog.Query{Text: "勾股定理", Page: 1, PerPage: 20}

	t.Run("concurrent requests wait for the one search", func(t *testing.T) {
		g := &gatedEngine{gate: make(chan struct{})}
		c := catalog.NewCached(g, 16, time.Minute)
		const n = 10
		got := make(chan int, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				r, err := c.Search(ctx, q)
				if err != nil {
					t.Error(err)
				}
				got <- r.Total
			})
		}
		waitFor(t, "all but one request wait", func() bool { return c.HitRate() == float64(n-1)/n })
		close(g.gate)
		wg.Wait()
		close(got)
		for total := range got {
			if total != 1 {
				t.Fatalf("a request got the answer of search %d, want the one shared search", total)
			}
		}
		if s := g.searches.Load(); s != 1 {
			t.Fatalf("%d engine searches for %d concurrent identical requests, want 1", s, n)
		}
	})

	t.Run("a write in between starts a new search and the old answer is not kept", func(t *testing.T) {
		g := &gatedEngine{gate: make(chan struct{})}
		c := catalog.NewCached(g, 16, time.Minute)
		first := make(chan int, 1)
		go func() { r, _ := c.Search(ctx, q); first <- r.Total }()
		waitFor(t, "the first search runs", func() bool { return g.searches.Load() == 1 })
		c.Upsert(ctx, catalog.Document{ID: "new"})
		second := make(chan int, 1)
		go func() { r, _ := c.Search(ctx, q); second <- r.Total }()
		waitFor(t, "the request after the write searches itself", func() bool { return g.searches.Load() == 2 })
		close(g.gate)
		<-first
		<-second
		if r, _ := c.Search(ctx, q); r.Total != 2 {
			t.Fatalf("cached answer is of search %d; want the one begun after the write (2)", r.Total)
		}
	})

	t.Run("a waiter searches itself when the first request gives up", func(t *testing.T) {
		g := &gatedEngine{gate: make(chan struct{})}
		c := catalog.NewCached(g, 16, time.Minute)
		cctx, cancel := context.WithCancel(ctx)
		firstErr := make(chan error, 1)
		go func() { _, err := c.Search(cctx, q); firstErr <- err }()
		waitFor(t, "the first search runs", func() bool { return g.searches.Load() == 1 })
		second := make(chan int, 1)
		go func() { r, _ := c.Search(ctx, q); second <- r.Total }()
		waitFor(t, "the second request waits", func() bool { return c.HitRate() == 0.5 })
		cancel()
		if err := <-firstErr; !errors.Is(err, context.Canceled) {
			t.Fatalf("the cancelled request got %v", err)
		}
		waitFor(t, "the waiter searches on its own", func() bool { return g.searches.Load() == 2 })
		close(g.gate)
		if total := <-second; total != 2 {
			t.Fatalf("the waiter got the answer of search %d, want its own (2)", total)
		}
	})
}
