package bleve_test

import (
	"context"
	"testing"

	"ziyuan/catalog"
	"ziyuan/catalog/bleve"
	"ziyuan/catalog/catalogtest"
)

// TestFacetsSurviveSegmentMerges updates every document several times, as the outbox does when
// downloads and ratings change, so that scorch merges segments; facet counts must still cover
// every match. (Uncompressed doc values lost them: facets then counted a third of the matches.)
func TestFacetsSurviveSegmentMerges(t *testing.T) {
	e, err := bleve.Open(t.TempDir()+"/index", bleve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	if err := e.EnsureIndex(ctx); err != nil {
		t.Fatal(err)
	}
	docs := catalogtest.SyntheticDocs(1, 600)
	if err := e.Upsert(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		for i := 0; i < len(docs); i += 200 {
			batch := docs[i:min(i+200, len(docs))]
			for j := range batch {
				batch[j].Downloads++
			}
			if err := e.Upsert(ctx, batch...); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, text := range []string{"", "勾股定理", "课件"} {
		r, err := e.Search(ctx, catalog.Query{Text: text, Facets: catalog.Facets(), Page: 1, PerPage: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []catalog.Facet{catalog.FacetStage, catalog.FacetType, catalog.FacetLicense, catalog.FacetPrice} {
			sum := 0
			for _, n := range r.Facets[f] {
				sum += n
			}
			if sum != r.Total || r.Total == 0 {
				t.Errorf("q=%q: %s facet counts sum to %d of %d matches", text, f, sum, r.Total)
			}
		}
	}
}
