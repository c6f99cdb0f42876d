package market

import (
	"context"
	"iter"

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
