package bleve_test

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"ziyuan/catalog"
	"ziyuan/catalog/bleve"
	"ziyuan/catalog/catalogtest"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
)

// A committed change is searchable within 2 s, on both databases, with the worker's defaults.
func TestChangeSearchableWithinTwoSecondsOfCommit(t *testing.T) {
	storetest.Each(t, []store.Source{{Name: "catalog", FS: catalog.SchemaFS()}}, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		e, err := bleve.OpenMemory(bleve.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		w := catalog.NewWorker(db.DB, e, catalog.WorkerOptions{})
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()
		defer func() { cancel(); <-done }()

		d := catalogtest.Fixtures()[4] // 勾股定理的证明
		visible := func(want bool) time.Duration {
			t.Helper()
			start := time.Now()
			for time.Since(start) < 5*time.Second {
				r, err := e.Search(ctx, catalog.Query{Text: "勾股定理"})
				if err != nil {
					t.Fatal(err)
				}
				if (r.Total == 1) == want {
					return time.Since(start)
				}
				time.Sleep(5 * time.Millisecond)
			}
			t.Fatalf("change not visible (want found=%v) after 5s", want)
			return 0
		}
		commit := func(c catalog.Change) {
			t.Helper()
			if err := db.Transaction(func(tx *gorm.DB) error { return catalog.Enqueue(ctx, tx, c) }); err != nil {
				t.Fatal(err)
			}
		}
		commit(catalog.Upserted(d))
		if took := visible(true); took > 2*time.Second {
			t.Errorf("upsert searchable after %v, want ≤ 2s", took)
		} else {
			t.Logf("upsert searchable after %v", took)
		}
		commit(catalog.Deleted(d.ID))
		if took := visible(false); took > 2*time.Second {
			t.Errorf("delete effective after %v, want ≤ 2s", took)
		}
		// Notify makes it faster than the poll interval
		commit(catalog.Upserted(d))
		w.Notify()
		if took := visible(true); took > 2*time.Second {
			t.Errorf("notified upsert searchable after %v", took)
		}
	})
}

func TestReindexRebuildsAndRemovesStale(t *testing.T) {
	ctx := context.Background()
	e, err := bleve.OpenMemory(bleve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	stale := catalogtest.Fixtures()[0]
	stale.ID = "gone"
	if err := e.Upsert(ctx, stale); err != nil {
		t.Fatal(err)
	}
	// 2,345 documents: several batches, two in flight
	docs := catalogtest.Fixtures()
	var all []catalog.Document
	for i := 0; i < 2345; i++ {
		d := docs[i%len(docs)]
		d.ID = fmt.Sprintf("r%04d", i)
		all = append(all, d)
	}
	var progress [][2]int
	src := catalog.Source{Total: len(all), Docs: func(yield func(catalog.Document, error) bool) {
		for _, d := range all {
			if !yield(d, nil) {
				return
			}
		}
	}}
	st, err := catalog.Reindex(ctx, src, e, func(done, total int) { progress = append(progress, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if st.Indexed != 2345 || st.Removed != 1 {
		t.Errorf("stats = %+v, want 2345 indexed, 1 removed", st)
	}
	if n, _ := e.Count(ctx); n != 2345 {
		t.Errorf("count = %d, want 2345", n)
	}
	if len(progress) != 2 || progress[1] != [2]int{2345, 2345} ||
		!slices.IsSortedFunc(progress, func(a, b [2]int) int { return a[0] - b[0] }) {
		t.Errorf("progress = %v, want two rising calls ending at 2345/2345", progress)
	}
	// a failing source stops the rebuild with its error
	boom := fmt.Errorf("database gone")
	var failing iter.Seq2[catalog.Document, error] = func(yield func(catalog.Document, error) bool) {
		yield(all[0], nil)
		yield(catalog.Document{}, boom)
	}
	if _, err := catalog.Reindex(ctx, catalog.Source{Docs: failing}, e, nil); err == nil {
		t.Error("Reindex with a failing source succeeded")
	}
}
