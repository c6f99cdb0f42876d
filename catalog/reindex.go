package catalog

import (
	"context"
	"fmt"
	"iter"
	"sync"
)

// Source yields every document that belongs in the index; market supplies it from the database.
type Source struct {
	// Total is the number of documents Docs will yield, for progress (0 if unknown).
	Total int
	Docs  iter.Seq2[Document, error]
}

// ReindexStats tell what Reindex did.
type ReindexStats struct {
	Indexed int // documents upserted
	Removed int // documents removed because the source no longer has them
}

// ReindexBatch is the number of documents Reindex sends to the engine at once, and
// ReindexWorkers the number of batches in flight.
const (
	ReindexBatch   = 2000
	ReindexWorkers = 2
)

// Reindex rebuilds the index of engine from src: it ensures the index, upserts every document in
// batches, waits until they are searchable, and, when the engine implements IDLister, removes
// the documents the source no longer has. progress (may be nil) is called after every batch with
// the number of documents done and src.Total.
//
// Changes committed while Reindex runs stay in the outbox and are applied by the worker as usual.
func Reindex(ctx context.Context, src Source, engine Engine, progress func(done, total int)) (ReindexStats, error) {
	var st ReindexStats
	if err := engine.EnsureIndex(ctx); err != nil {
		return st, err
	}
	_, canList := engine.(IDLister)
	seen := map[string]struct{}{}

	// ReindexWorkers batches are in flight at once: engines do part of their indexing work in
	// the caller's goroutine (bleve builds segments there), so two writers use two cores.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan []Document)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range ReindexWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if err := engine.Upsert(ctx, b...); err != nil {
					cancel(err)
					continue
				}
				mu.Lock()
				st.Indexed += len(b)
				if progress != nil {
					progress(st.Indexed, max(src.Total, st.Indexed))
				}
				mu.Unlock()
			}
		}()
	}
	readErr := func() error {
		defer func() { close(batches); wg.Wait() }()
		batch := make([]Document, 0, ReindexBatch)
		send := func() bool {
			select {
			case batches <- batch:
				batch = make([]Document, 0, ReindexBatch)
				return true
			case <-ctx.Done():
				return false
			}
		}
		for d, err := range src.Docs {
			if err != nil {
				return fmt.Errorf("reindex: read documents: %w", err)
			}
			if err := d.Validate(); err != nil {
				return fmt.Errorf("reindex: document %s: %w", d.ID, err)
			}
			if canList {
				seen[d.ID] = struct{}{}
			}
			batch = append(batch, d)
			if len(batch) == ReindexBatch && !send() {
				return nil
			}
		}
		if len(batch) > 0 {
			send()
		}
		return nil
	}()
	if readErr != nil {
		return st, readErr
	}
	if err := context.Cause(ctx); err != nil {
		return st, err
	}
	if err := engine.Wait(ctx); err != nil {
		return st, err
	}
	if lister, ok := engine.(IDLister); ok {
		var stale []string
		err := lister.ListIDs(ctx, func(id string) error {
			if _, ok := seen[id]; !ok {
				stale = append(stale, id)
			}
			return nil
		})
		if err != nil {
			return st, err
		}
		for i := 0; i < len(stale); i += ReindexBatch {
			if err := engine.Delete(ctx, stale[i:min(i+ReindexBatch, len(stale))]...); err != nil {
				return st, err
			}
		}
		st.Removed = len(stale)
		if err := engine.Wait(ctx); err != nil {
			return st, err
		}
	}
	return st, nil
}

// ApplyChanges writes changes straight to engine, in batches of ReindexBatch, and waits until
// they are searchable; it returns how many it applied. It bypasses the outbox, so it suits an
// index that no worker writes to yet (one being built to replace the live one). A document must
// appear at most once in changes: upserts and removals of a batch go to the engine in two calls,
// so two changes of one document could be applied out of order.
func ApplyChanges(ctx context.Context, engine Engine, changes iter.Seq2[Change, error]) (int, error) {
	n := 0
	var docs []Document
	var ids []string
	flush := func() error {
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
		n += len(docs) + len(ids)
		docs, ids = nil, nil
		return nil
	}
	for c, err := range changes {
		if err != nil {
			return n, fmt.Errorf("apply changes: read: %w", err)
		}
		switch c.Op {
		case OpUpsert:
			if err := c.Document.Validate(); err != nil {
				return n, fmt.Errorf("apply changes: document %s: %w", c.ID, err)
			}
			docs = append(docs, c.Document)
		case OpDelete:
			ids = append(ids, c.ID)
		default:
			return n, ValidationError{{Field: "op", Value: string(c.Op), Reason: "unknown change", Allowed: []string{string(OpUpsert), string(OpDelete)}}}
		}
		if len(docs)+len(ids) >= ReindexBatch {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := flush(); err != nil {
		return n, err
	}
	return n, engine.Wait(ctx)
}
