package catalog_test

import (
	"context"
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
