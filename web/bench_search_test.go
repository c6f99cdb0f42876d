package web_test

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
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
	b.Run("uncached", func(b *testing.B) { benchSearchHTTP(b, sharedSearchIndex(b)) })
	b.Run("cached", func(b *testing.B) {
		c := catalog.NewCached(sharedSearchIndex(b), 4096, time.Second)
		benchSearchHTTP(b, c)
		b.ReportMetric(c.HitRate()*100, "hit%")
	})
}

// searchMix is a realistic query mix: 400 distinct queries (topic, sometimes a type word, and
// a filter or two), drawn with a Zipf distribution as real search traffic is.
func searchMix(n int) []url.Values {
	r := rand.New(rand.NewPCG(9, 9))
	topics := []string{"二次函数 图像", "光合作用", "Unit 3", "勾股定理", "文言文", "欧姆定律", "化学方程式", "静夜思", "一元一次方程",
		"细胞的结构", "丝绸之路", "中国的气候", "分数的意义", "牛顿第一定律", "阅读理解", "现在完成时", "圆的面积", "因式分解", "背影", "浮力"}
	types := []string{"", "课件", "教案", "试卷", "练习", "微课"}
	stages := []string{"", "小学", "初中", "高中"}
	sorts := []string{"relevance", "newest", "popular", "rating", "price_asc"}
	var distinct []url.Values
	for len(distinct) < 400 {
		q := url.Values{"q": {strings.TrimSpace(topics[r.IntN(len(topics))] + " " + types[r.IntN(len(types))])}, "sort": {sorts[r.IntN(len(sorts))]}}
		if st := stages[r.IntN(len(stages))]; st != "" {
			q.Set("stage", st)
		}
		if r.IntN(3) == 0 {
			q.Set("price", "free")
		}
		distinct = append(distinct, q)
	}
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 1)), 1.1, 1, uint64(len(distinct)-1))
	out := make([]url.Values, n)
	for i := range out {
		out[i] = distinct[z.Uint64()]
	}
	return out
}

func benchSearchHTTP(b *testing.B, eng catalog.Engine) {
	e := newEnvTB(b, openDB(b))
	srv := e.withSearch(b, eng)
	queries := searchMix(b.N + 1)
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
				res, err := client.Get(srv + "/api/v1/search?" + queries[i].Encode())
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
