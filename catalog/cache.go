package catalog

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// Cached wraps an engine with a small cache of search results. Catalog traffic is dominated by
// a few queries (the home page's categories, popular topics, facet browsing), and computing every
// facet over every match is the costly part of a search. Entries live at most TTL, so a change
// applied by another instance's worker to a shared engine shows within TTL; changes applied
// through this wrapper clear the cache at once.
type Cached struct {
	Engine
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	entries map[string]cachedResult
	hits    uint64
	misses  uint64
}

type cachedResult struct {
	res Result
	at  time.Time
}

// NewCached returns e with a cache of up to max results kept for ttl (ttl ≤ 0 disables it).
func NewCached(e Engine, max int, ttl time.Duration) *Cached {
	return &Cached{Engine: e, ttl: ttl, max: max, now: time.Now, entries: map[string]cachedResult{}}
}

// Search answers from the cache when a fresh result for the same query is there.
func (c *Cached) Search(ctx context.Context, q Query) (Result, error) {
	if c.ttl <= 0 {
		return c.Engine.Search(ctx, q)
	}
	b, err := json.Marshal(q)
	if err != nil {
		return c.Engine.Search(ctx, q)
	}
	key := string(b)
	now := c.now()
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && now.Sub(e.at) < c.ttl {
		c.hits++
		c.mu.Unlock()
		return e.res, nil
	}
	c.misses++
	c.mu.Unlock()
	res, err := c.Engine.Search(ctx, q)
	if err != nil {
		return res, err
	}
	c.mu.Lock()
	if len(c.entries) >= c.max {
		// Dropping everything is crude but bounded and cheap; hot queries come back at once.
		clear(c.entries)
	}
	c.entries[key] = cachedResult{res: res, at: now}
	c.mu.Unlock()
	return res, nil
}

// Upsert writes through and clears the cache.
func (c *Cached) Upsert(ctx context.Context, docs ...Document) error {
	err := c.Engine.Upsert(ctx, docs...)
	c.invalidate()
	return err
}

// Delete writes through and clears the cache.
func (c *Cached) Delete(ctx context.Context, ids ...string) error {
	err := c.Engine.Delete(ctx, ids...)
	c.invalidate()
	return err
}

// Wait clears the cache once the writes are searchable: a result cached between a write and
// its visibility would otherwise outlive the write.
func (c *Cached) Wait(ctx context.Context) error {
	err := c.Engine.Wait(ctx)
	c.invalidate()
	return err
}

func (c *Cached) invalidate() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

// HitRate reports the share of searches answered from the cache so far.
func (c *Cached) HitRate() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hits+c.misses == 0 {
		return 0
	}
	return float64(c.hits) / float64(c.hits+c.misses)
}

// ListIDs passes through to engines that list their IDs.
func (c *Cached) ListIDs(ctx context.Context, fn func(id string) error) error {
	if l, ok := c.Engine.(IDLister); ok {
		return l.ListIDs(ctx, fn)
	}
	return nil
}
