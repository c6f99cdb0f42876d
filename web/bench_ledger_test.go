package web_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"ziyuan/rights/rightstest"
)

// BenchmarkProofHTTP1M measures GET /api/v1/ledger/entries/{i}/proof over a real listener on a
// ledger of 1,000,000 entries (SQLite): the latency one client sees, p50 and p99.
func BenchmarkProofHTTP1M(b *testing.B) {
	const size = 1_000_000
	e := newEnvTB(b, openDB(b))
	start := time.Now()
	if err := rightstest.WriteSyntheticTree(e.db.DB, size); err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote a tree of %d entries in %v", size, time.Since(start).Round(time.Millisecond))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if cp, err := e.Ledger.Checkpoint(context.Background()); err == nil && cp.Size == size {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("no checkpoint covers the tree")
		}
	}
	base := e.listen(b)
	client := &http.Client{}
	r := rand.New(rand.NewPCG(1, 2))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		res, err := client.Get(fmt.Sprintf("%s/api/v1/ledger/entries/%d/proof", base, r.Int64N(size)))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
