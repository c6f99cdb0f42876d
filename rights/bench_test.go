package rights_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/rights"
	"ziyuan/rights/rightstest"
)

// Benchmarks of the targets. Run:
//
//	go test -run '^$' -bench . -benchtime 3x ./rights/
//	.ci/with-postgres go test -run '^$' -bench . ./rights/   (adds the PostgreSQL figures)
//
// SQLite is opened durably (WAL, synchronous=FULL), unlike store.Open's NORMAL.

func durableSQLite(b *testing.B) *store.DB {
	b.Helper()
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(FULL)"} {
		q.Add("_pragma", p)
	}
	q.Add("_txlock", "immediate")
	dsn := "file:" + filepath.Join(b.TempDir(), "bench.db") + "?" + q.Encode()
	g, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		b.Fatal(err)
	}
	sqlDB, _ := g.DB()
	sqlDB.SetMaxOpenConns(8)
	b.Cleanup(func() { sqlDB.Close() })
	db := &store.DB{DB: g, Dialect: store.SQLite}
	if _, err := store.Migrate(context.Background(), db, sources...); err != nil {
		b.Fatal(err)
	}
	return db
}

func benchDBs(b *testing.B, fn func(b *testing.B, open func(b *testing.B) *store.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, durableSQLite) })
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv("ZIYUAN_TEST_POSTGRES") == "" {
			b.Skip("ZIYUAN_TEST_POSTGRES not set")
		}
		fn(b, func(b *testing.B) *store.DB { return storetest.Open(b, store.Postgres, sources...) })
	})
}

// queueBacklog inserts n queued entries directly, as many committed Enqueue calls leave them.
func queueBacklog(b *testing.B, db *gorm.DB, n int) {
	b.Helper()
	now := time.Now().UTC()
	for start := 0; start < n; start += 400 {
		end := min(start+400, n)
		var sb strings.Builder
		args := make([]any, 0, 3*(end-start))
		sb.WriteString(`INSERT INTO ledger_entries (dedupe_key, data, queued_at) VALUES `)
		for i := start; i < end; i++ {
			if i > start {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?,?)")
			data, err := rights.Encode(workEntry(i))
			if err != nil {
				b.Fatal(err)
			}
			args = append(args, fmt.Sprintf("bk-%d", i), data, now)
		}
		if err := db.Exec(sb.String(), args...).Error; err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIntegrate: the sequencer integrating a queued backlog; one op is one entry.
func BenchmarkIntegrate(b *testing.B) {
	benchDBs(b, func(b *testing.B, open func(b *testing.B) *store.DB) {
		db := open(b)
		lg := openLog(b, db.DB)
		queueBacklog(b, db.DB, b.N)
		b.ResetTimer()
		start := time.Now()
		if n := drain(b, lg); n != b.N {
			b.Fatalf("integrated %d of %d", n, b.N)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "entries/s")
	})
}

// BenchmarkEnqueue: one entry per committed transaction, one writer.
func BenchmarkEnqueue(b *testing.B) {
	benchDBs(b, func(b *testing.B, open func(b *testing.B) *store.DB) {
		db := open(b)
		lg := openLog(b, db.DB)
		ctx := context.Background()
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			err := db.Transaction(func(tx *gorm.DB) error {
				_, err := lg.Enqueue(ctx, tx, workEntry(i), fmt.Sprintf("e-%d", i))
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "entries/s")
	})
}

// BenchmarkEnqueueParallel: one entry per committed transaction from many goroutines.
func BenchmarkEnqueueParallel(b *testing.B) {
	benchDBs(b, func(b *testing.B, open func(b *testing.B) *store.DB) {
		db := open(b)
		lg := openLog(b, db.DB)
		ctx := context.Background()
		b.SetParallelism(4)
		var n atomicCounter
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.next()
				err := db.Transaction(func(tx *gorm.DB) error {
					_, err := lg.Enqueue(ctx, tx, workEntry(i), fmt.Sprintf("p-%d", i))
					return err
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "entries/s")
	})
}

// BenchmarkCheckpointLatency: from the commit of a new entry until a signed checkpoint covers
// it, with Run at its default pace.
func BenchmarkCheckpointLatency(b *testing.B) {
	benchDBs(b, func(b *testing.B, open func(b *testing.B) *store.DB) {
		db := open(b)
		lg := openLog(b, db.DB, func(c *rights.Config) { c.Now = nil })
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go lg.Run(ctx)
		var lat []time.Duration
		b.ResetTimer()
		for i := range b.N {
			start := time.Now()
			enqueue(b, lg, i, i+1)
			for {
				c, err := lg.Checkpoint(ctx)
				if err == nil && c.Size > int64(i) {
					break
				}
				time.Sleep(time.Millisecond)
			}
			lat = append(lat, time.Since(start))
		}
		b.StopTimer()
		reportPercentiles(b, lat)
	})
}

// BenchmarkInclusionProof1M: an inclusion proof against the latest checkpoint of a tree of
// 1,000,000 entries (the tree's hashes are written directly; the proof reads only hashes).
func BenchmarkInclusionProof1M(b *testing.B) {
	const size = 1_000_000
	benchDBs(b, func(b *testing.B, open func(b *testing.B) *store.DB) {
		db := open(b)
		buildStart := time.Now()
		writeTree(b, db.DB, size)
		b.Logf("built a tree of %d entries in %v", size, time.Since(buildStart))
		lg := openLog(b, db.DB)
		mustPublish(b, lg)
		ctx := context.Background()
		r := rand.New(rand.NewPCG(1, 1))
		var lat []time.Duration
		b.ResetTimer()
		for range b.N {
			i := r.Int64N(size)
			start := time.Now()
			if _, err := lg.InclusionProof(ctx, i, 0); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		b.StopTimer()
		reportPercentiles(b, lat)
	})
}

// writeTree stores the hashes and tree state of a log of n synthetic entries.
func writeTree(b *testing.B, db *gorm.DB, n int64) {
	b.Helper()
	if err := rightstest.WriteSyntheticTree(db, n); err != nil {
		b.Fatal(err)
	}
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/1e6, "max-ms")
}

type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) next() int { return int(c.n.Add(1)) - 1 }

// BenchmarkStoragePerEntry: the database space one integrated entry takes — its row, its
// stored hashes (about two per entry) and their indexes — for the capacity model in
// docs/scaling.md. Run with -benchtime 100000x: small logs are dominated by fixed overhead.
func BenchmarkStoragePerEntry(b *testing.B) {
	benchDBs(b, func(b *testing.B, open func(b *testing.B) *store.DB) {
		db := open(b)
		lg := openLog(b, db.DB)
		size := func() int64 {
			var n int64
			if db.Dialect == store.Postgres {
				db.Exec(`VACUUM ANALYZE ledger_entries`)
				db.Exec(`VACUUM ANALYZE ledger_hashes`)
				db.Raw(`SELECT pg_total_relation_size('ledger_entries') + pg_total_relation_size('ledger_hashes')`).Scan(&n)
				return n
			}
			// Only the ledger's tables grow here, so the file's growth is theirs.
			var pages, pageSize int64
			db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
			db.Raw(`PRAGMA page_count`).Scan(&pages)
			db.Raw(`PRAGMA page_size`).Scan(&pageSize)
			return pages * pageSize
		}
		before := size()
		queueBacklog(b, db.DB, b.N)
		drain(b, lg)
		var data int64
		db.Raw(`SELECT SUM(length(data)) FROM ledger_entries`).Scan(&data)
		b.ReportMetric(float64(size()-before)/float64(b.N), "bytes/entry")
		b.ReportMetric(float64(data)/float64(b.N), "data-bytes/entry")
	})
}
