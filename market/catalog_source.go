package market

import (
	"context"
	"iter"
	"time"

	"gorm.io/gorm"

	"ziyuan/catalog"
)

// CatalogSource yields the search document of every published resource, for rebuilding the
// index (`ziyuan reindex`, or a fresh index at start). It reads in pages, so it works on large
// catalogs without holding them in memory.
func (m *Market) CatalogSource(ctx context.Context) (catalog.Source, error) {
	q := m.db.WithContext(ctx).Model(&resourceRow{}).Where("published_version_id IS NOT NULL AND status <> ?", StatusTakenDown)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return catalog.Source{}, Internal(err)
	}
	docs := func(yield func(catalog.Document, error) bool) {
		after := ""
		for {
			var ids []string
			err := m.db.WithContext(ctx).Model(&resourceRow{}).
				Where("published_version_id IS NOT NULL AND status <> ? AND id > ?", StatusTakenDown, after).
				Order("id").Limit(500).Pluck("id", &ids).Error
			if err != nil {
				yield(catalog.Document{}, Internal(err))
				return
			}
			for _, id := range ids {
				doc, err := m.catalogDocument(ctx, m.db.DB, id)
				if err != nil {
					err = Internal(err)
				}
				if !yield(doc, err) || err != nil {
					return
				}
			}
			if len(ids) < 500 {
				return
			}
			after = ids[len(ids)-1]
		}
	}
	return catalog.Source{Total: int(total), Docs: iter.Seq2[catalog.Document, error](docs)}, nil
}

// CatalogChangesSince yields the current change (search document, or removal) of every resource
// whose search document changed at or after since. It reads without row locks, so what it yields
// may already be overtaken by a concurrent change: it serves to bring a new index up to date
// before it goes live, and RedeliverCatalog settles the rest once it is live.
func (m *Market) CatalogChangesSince(ctx context.Context, since time.Time) iter.Seq2[catalog.Change, error] {
	return func(yield func(catalog.Change, error) bool) {
		err := m.catalogChangedIDs(ctx, since, func(id string) (bool, error) {
			c, err := m.catalogChange(ctx, m.db.DB, id)
			if err != nil {
				return false, err
			}
			return yield(c, nil), nil
		})
		if err != nil {
			yield(catalog.Change{}, Internal(err))
		}
	}
}

// CatalogRedelivery tells what RedeliverCatalog queued.
type CatalogRedelivery struct {
	Upserts int // search documents queued again
	Deletes int // removals queued again (resources taken down or no longer published)
}

// RedeliverCatalog queues again, in the catalog outbox, the current search document (or removal)
// of every resource whose document changed at or after since.
//
// It serves a rebuild of an index that all instances share: while the new index is built, the
// workers apply changes to the old one, so once the new one is live, what changed during the
// build must reach it too. Going through the outbox, rather than writing to the index, orders the
// re-delivered change with concurrent transactions by the outbox's per-document order. Each
// resource is read in its own transaction after taking its row lock, as market's writes do
// (SQLite's transactions take the write lock when they begin): a transaction that changed the
// resource and queued its change has committed before the resource is read here, so the change
// queued here is never older than one queued before it.
func (m *Market) RedeliverCatalog(ctx context.Context, since time.Time) (CatalogRedelivery, error) {
	var out CatalogRedelivery
	err := m.catalogChangedIDs(ctx, since, func(id string) (bool, error) {
		var op catalog.Op
		err := m.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := m.lockResource(tx, id); err != nil {
				return err
			}
			c, err := m.catalogChange(ctx, tx, id)
			if err != nil {
				return err
			}
			op = c.Op
			return catalog.Enqueue(ctx, tx, c)
		})
		if err != nil {
			return false, err
		}
		if op == catalog.OpDelete {
			out.Deletes++
		} else {
			out.Upserts++
		}
		return true, nil
	})
	if out.Upserts+out.Deletes > 0 {
		m.opts.CatalogChanged()
	}
	if err != nil {
		return out, asDomain(err)
	}
	return out, nil
}

// catalogChangedIDs calls fn with the ID of every resource whose search document changed at or
// after since, in ID order, reading in pages; fn returns false to stop.
func (m *Market) catalogChangedIDs(ctx context.Context, since time.Time, fn func(id string) (bool, error)) error {
	since = since.UTC().Truncate(time.Microsecond)
	after := ""
	for {
		var ids []string
		err := m.db.WithContext(ctx).Model(&resourceRow{}).Where("catalog_changed_at >= ? AND id > ?", since, after).
			Order("id").Limit(500).Pluck("id", &ids).Error
		if err != nil {
			return err
		}
		for _, id := range ids {
			more, err := fn(id)
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
		}
		if len(ids) < 500 {
			return nil
		}
		after = ids[len(ids)-1]
	}
}
