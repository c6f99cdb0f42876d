package catalog

import (
	"context"
	"encoding/json"
	"errors"
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

	mu       sync.Mutex
	entries  map[string]cachedResult
	inflight map[string]*search
	gen      uint64 // bumped by every write: a search begun before it is not cached after it
	hits     uint64
	misses   uint64
}

type cachedResult struct {
	res Result
	at  time.Time
}

// search is one engine search that concurrent requests for the same query share: when a hot
// query's entry expires under load, one request searches and the others wait for its answer
// instead of all computing the same facets at once.
type search struct {
	done chan struct{}
	res  Result
	err  error
}

// NewCached returns e with a cache of up to max results kept for ttl (ttl ≤ 0 disables it).
func NewCached(e Engine, max int, ttl time.Duration) *Cached {
	return &Cached{Engine: e, ttl: ttl, max: max, now: time.Now,
		entries: map[string]cachedResult{}, inflight: map[string]*search{}}
}

// Search answers from the cache when a fresh result for the same query is there, and joins
// a search already running for the same query otherwise.
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
	if s, ok := c.inflight[key]; ok {
		c.hits++
		c.mu.Unlock()
		select {
		case <-s.done:
			if s.err != nil && ctx.Err() == nil && (errors.Is(s.err, context.Canceled) || errors.Is(s.err, context.DeadlineExceeded)) {
				// The request that searched gave up; this one has not.
				return c.Engine.Search(ctx, q)
			}
			return s.res, s.err
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
	c.misses++
	s := &search{done: make(chan struct{})}
	c.inflight[key] = s
	gen := c.gen
	c.mu.Unlock()

	// Deferred so that waiters are released even if the engine panics (they then get
	// errAbandoned, never an empty result).
	s.err = errAbandoned
	defer func() {
		c.mu.Lock()
		if c.inflight[key] == s {
			delete(c.inflight, key)
		}
		if s.err == nil && gen == c.gen {
			if len(c.entries) >= c.max {
				// Dropping everything is crude but bounded and cheap; hot queries come back at once.
				clear(c.entries)
			}
			c.entries[key] = cachedResult{res: s.res, at: now}
		}
		c.mu.Unlock()
		close(s.done)
	}()
	s.res, s.err = c.Engine.Search(ctx, q)
	return s.res, s.err
}

var errAbandoned = errors.New("catalog: the shared search did not finish")

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

// invalidate forgets every result, and every search still running: a request that comes
// after a write starts its own search rather than join one that began before it.
func (c *Cached) invalidate() {
	c.mu.Lock()
	clear(c.entries)
	clear(c.inflight)
	c.gen++
	c.mu.Unlock()
}

// HitRate reports the share of searches answered without an engine search of their own
// (from the cache, or by joining the same search in flight) so far.
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
