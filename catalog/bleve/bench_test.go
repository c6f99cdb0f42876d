package bleve_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"ziyuan/catalog"
	"ziyuan/catalog/bleve"
	"ziyuan/catalog/catalogtest"
)

// SyntheticDocs is the seeded benchmark catalog of catalogtest.
var SyntheticDocs = catalogtest.SyntheticDocs

func benchSize() int {
	if s := os.Getenv("ZIYUAN_BENCH_DOCS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 100_000
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// benchBatch is the batch size of bulk indexing (catalog.ReindexBatch uses the same order).
const benchBatch = 2000

func buildIndex(b *testing.B, dir string, docs []catalog.Document) (*bleve.Engine, time.Duration) {
	b.Helper()
	e, err := bleve.Open(dir, bleve.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	// two batches in flight, as Reindex does: scorch builds segments in the caller's goroutine
	var wg sync.WaitGroup
	batches := make(chan []catalog.Document)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				if err := e.Upsert(ctx, batch...); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := 0; i < len(docs); i += benchBatch {
		batches <- docs[i:min(i+benchBatch, len(docs))]
	}
	close(batches)
	wg.Wait()
	return e, time.Since(start)
}

// BenchmarkIndexing measures indexing throughput (documents per second) into a disk index in
// batches of 1,000.
func BenchmarkIndexing(b *testing.B) {
	docs := SyntheticDocs(1, 20_000)
	bleve.Segmenter()
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		e, took := buildIndex(b, filepath.Join(b.TempDir(), "idx"), docs)
		total += took
		e.Close()
	}
	b.ReportMetric(float64(len(docs)*b.N)/total.Seconds(), "docs/s")
}

var (
	searchOnce sync.Once
	searchEng  *bleve.Engine
	searchInfo string
)

// BenchmarkSearch: ZIYUAN_BENCH_DOCS (default 100,000) synthetic resources; one query with text,
// two filters, every facet, a sort and highlighting. Reports p50/p99 latency, plus the build
// figures (indexing rate, index size, heap) once.
func BenchmarkSearch(b *testing.B) {
	n := benchSize()
	searchOnce.Do(func() {
		docs := SyntheticDocs(42, n)
		bleve.Segmenter()
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("ziyuan-bench-%d-%d", n, os.Getpid()))
		os.RemoveAll(dir)
		e, took := buildIndex(b, dir, docs)
		docs = nil
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		searchEng = e
		searchInfo = fmt.Sprintf("%d docs indexed in %v (%.0f docs/s), index %.1f MiB on disk, Go heap %.0f MiB (segmenter and index, after GC), sys %.0f MiB",
			n, took.Round(time.Millisecond), float64(n)/took.Seconds(), float64(dirSize(dir))/(1<<20),
			float64(after.HeapAlloc)/(1<<20), float64(after.Sys)/(1<<20))
		b.Cleanup(func() {})
	})
	b.Log(searchInfo)
	e := searchEng
	ctx := context.Background()
	texts := []string{"二次函数", "光合作用", "牛顿第二定律", "一元一次方程", "阅读理解", "欧姆定律", "古诗", "勾股定理 课件", "化学方程式", "丝绸之路"}
	filters := []catalog.Filters{
		{Stage: "初中", License: "cc-by"},
		{Grade: "八年级", Type: "课件"},
		{Subject: "数学", Price: catalog.PriceFree},
		{Stage: "高中", Edition: "人教版"},
	}
	sorts := []catalog.Sort{catalog.SortRelevance, catalog.SortNewest, catalog.SortPopular, catalog.SortPriceAsc}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := catalog.Query{Text: texts[i%len(texts)], Filters: filters[i%len(filters)], Facets: catalog.Facets(),
			Sort: sorts[i%len(sorts)], Highlight: true, PerPage: 20}
		start := time.Now()
		if _, err := e.Search(ctx, q); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
}

// TestSyntheticDocsAreValid keeps the generator honest: every record passes the taxonomy.
func TestSyntheticDocsAreValid(t *testing.T) {
	tax := catalog.DefaultTaxonomy()
	docs := SyntheticDocs(7, 500)
	again := SyntheticDocs(7, 500)
	for i, d := range docs {
		if err := d.Validate(); err != nil {
			t.Fatalf("%s: %v", d.ID, err)
		}
		if err := tax.Validate(d.Classification()); err != nil {
			t.Fatalf("%s: %v", d.ID, err)
		}
		if d.Title != again[i].Title || d.PublishedAt != again[i].PublishedAt {
			t.Fatal("generator is not reproducible for a seed")
		}
	}
}
