package catalog

import (
	"context"
	"fmt"
	"iter"
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

// ReindexBatch is the number of documents Reindex sends to the engine at once.
const ReindexBatch = 500

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
	batch := make([]Document, 0, ReindexBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := engine.Upsert(ctx, batch...); err != nil {
			return err
		}
		st.Indexed += len(batch)
		batch = batch[:0]
		if progress != nil {
			progress(st.Indexed, max(src.Total, st.Indexed))
		}
		return nil
	}
	for d, err := range src.Docs {
		if err != nil {
			return st, fmt.Errorf("reindex: read documents: %w", err)
		}
		if err := d.Validate(); err != nil {
			return st, fmt.Errorf("reindex: document %s: %w", d.ID, err)
		}
		if canList {
			seen[d.ID] = struct{}{}
		}
		batch = append(batch, d)
		if len(batch) == ReindexBatch {
			if err := flush(); err != nil {
				return st, err
			}
		}
	}
	if err := flush(); err != nil {
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
