package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ziyuan/catalog"
	"ziyuan/catalog/bleve"
	"ziyuan/catalog/catalogtest"
)

var (
	searchIndexOnce sync.Once
	searchIndex     catalog.Engine
	searchIndexErr  error
)

// benchDocs is the catalog size of the HTTP search benchmark (ZIYUAN_BENCH_DOCS, default 100,000).
func benchDocs() int {
	if n, err := strconv.Atoi(os.Getenv("ZIYUAN_BENCH_DOCS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// sharedSearchIndex builds the synthetic index once per process, so -count runs reuse it.
func sharedSearchIndex(b *testing.B) catalog.Engine {
	searchIndexOnce.Do(func() {
		// A disk index like serve's: bleve's in-memory store is far slower than scorch.
		dir, err := os.MkdirTemp("", "ziyuan-bench-search-")
		if err != nil {
			searchIndexErr = err
			return
		}
		eng, err := bleve.Open(dir, bleve.Options{})
		if err != nil {
			searchIndexErr = err
			return
		}
		docs := catalogtest.SyntheticDocs(1, benchDocs())
		src := catalog.Source{Total: len(docs), Docs: func(yield func(catalog.Document, error) bool) {
			for _, d := range docs {
				if !yield(d, nil) {
					return
				}
			}
		}}
		start := time.Now()
		if _, searchIndexErr = catalog.Reindex(context.Background(), src, eng, nil); searchIndexErr == nil {
			b.Logf("indexed %d documents in %s", len(docs), time.Since(start).Round(time.Millisecond))
		}
		searchIndex = eng
	})
	if searchIndexErr != nil {
		b.Fatal(searchIndexErr)
	}
	return searchIndex
}

// BenchmarkSearchHTTP measures GET /api/v1/search over a real listener with 50 concurrent
// clients on a synthetic catalog: text, two filters, every facet, a sort and highlights.
// It reports requests per second and the p50/p99 latency a client sees.
func BenchmarkSearchHTTP(b *testing.B) {
	eng := sharedSearchIndex(b)
	e := newEnvTB(b, openDB(b))
	srv := e.withSearch(b, eng)
	queries := []url.Values{
		{"q": {"二次函数 图像"}, "stage": {"初中"}, "type": {"课件"}, "sort": {"newest"}},
		{"q": {"光合作用"}, "subject": {"生物学"}, "price": {"free"}, "sort": {"popular"}},
		{"q": {"Unit 3"}, "stage": {"小学"}, "edition": {"外研版"}},
		{"q": {"勾股定理 练习"}, "grade": {"八年级"}, "sort": {"rating"}},
		{"q": {"文言文"}, "stage": {"高中"}, "license": {"cc-by"}, "sort": {"price_asc"}},
	}
	const clients = 50
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var next atomic.Int64
	var failures atomic.Int64
	lat := make([][]time.Duration, clients)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				t0 := time.Now()
				res, err := client.Get(srv + "/api/v1/search?" + queries[i%int64(len(queries))].Encode())
				if err != nil {
					failures.Add(1)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					failures.Add(1)
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failures.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
}

// withSearch serves e's application with eng as its search engine and returns the base URL.
func (e *env) withSearch(b testing.TB, eng catalog.Engine) string {
	e.srv = newServer(e, eng)
	return e.listen(b)
}
