package rights_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/rights"
)

// sharedDB opens one fresh database twice, as two processes would: separate connection pools
// on one SQLite file or one PostgreSQL database.
func sharedDB(t *testing.T, d store.Dialect) (*store.DB, *store.DB) {
	t.Helper()
	ctx := context.Background()
	cfg := store.Config{DataDir: t.TempDir()}
	if d == store.Postgres {
		cfg.URL = storetest.NewPostgresDatabase(t)
	}
	open := func() *store.DB {
		db, err := store.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	a := open()
	if _, err := store.Migrate(ctx, a, sources...); err != nil {
		t.Fatal(err)
	}
	return a, open()
}

func eachDialect(t *testing.T, fn func(t *testing.T, d store.Dialect)) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { fn(t, d) })
	}
}

// twoProcesses opens two Logs that share a database and a signing key, as two instances of one
// deployment do.
func twoProcesses(t *testing.T, d store.Dialect, lease time.Duration) (a, b *testLog) {
	dbA, dbB := sharedDB(t, d)
	key := newKey(t)
	mod := func(name string) func(*rights.Config) {
		return func(c *rights.Config) {
			c.Key, c.Holder, c.LeaseDuration = key, name, lease
		}
	}
	return openLog(t, dbA.DB, mod("A")), openLog(t, dbB.DB, mod("B"))
}

type leaseRow struct {
	Holder    string
	Epoch     int64
	ExpiresUS int64
}

func readLease(t *testing.T, db *gorm.DB) leaseRow {
	t.Helper()
	var r leaseRow
	if err := db.Raw(`SELECT holder, epoch, expires_us FROM ledger_leader WHERE id = 1`).Scan(&r).Error; err != nil {
		t.Fatal(err)
	}
	return r
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

func runLog(t *testing.T, lg *testLog) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- lg.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// Two processes run the ledger on one database: one leads, both take writes, every entry gets
// exactly one index, and the checkpoint covers them all.
func TestLeaderOneAtATimeSharedWork(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		a, b := twoProcesses(t, d, 600*time.Millisecond)
		runLog(t, a)
		runLog(t, b)
		waitFor(t, 5*time.Second, "a leader", func() bool { return a.Leading() || b.Leading() })

		stopSampling := make(chan struct{})
		both := make(chan int, 1)
		go func() {
			n := 0
			for {
				select {
				case <-stopSampling:
					both <- n
					return
				case <-time.After(time.Millisecond):
					if a.Leading() && b.Leading() {
						n++
					}
				}
			}
		}()

		const perProcess = 150
		var wg sync.WaitGroup
		errs := make(chan error, 2*perProcess)
		for p, lg := range []*testLog{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perProcess {
					key := fmt.Sprintf("k-%d-%d", p, i)
					err := lg.db.Transaction(func(tx *gorm.DB) error {
						_, err := lg.Enqueue(context.Background(), tx, workEntry(p*perProcess+i), key)
						return err
					})
					if err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for p, lg := range []*testLog{a, b} {
			for i := range perProcess {
				// Each process waits for its own entries, integrated by whichever leads.
				if _, err := lg.WaitIndexed(ctx, fmt.Sprintf("k-%d-%d", p, i)); err != nil {
					t.Fatal(err)
				}
			}
		}
		waitFor(t, 10*time.Second, "a checkpoint of every entry", func() bool {
			c, err := b.Checkpoint(context.Background())
			return err == nil && c.Size == 2*perProcess
		})
		close(stopSampling)
		if n := <-both; n != 0 {
			t.Errorf("both processes believed they led in %d samples", n)
		}
		rep := mustFsckOK(t, a.db)
		if rep.TreeSize != 2*perProcess || rep.Pending != 0 {
			t.Errorf("fsck: tree size %d, %d pending; want %d, 0", rep.TreeSize, rep.Pending, 2*perProcess)
		}
		if a.Leading() == b.Leading() {
			t.Errorf("leading: A %v, B %v; want exactly one", a.Leading(), b.Leading())
		}
	})
}

// The leader dies without a word (its connections drop, as with SIGKILL): the other process
// takes over within 5 s with the default lease, and integrates what was queued meanwhile.
func TestLeaderFailoverWithin5s(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		a, b := twoProcesses(t, d, 0)
		runLog(t, a)
		waitFor(t, 5*time.Second, "A leads", a.Leading)
		runLog(t, b)
		enqueue(t, a, 0, 10)
		waitFor(t, 5*time.Second, "A integrates", func() bool {
			st, err := b.Tree(context.Background())
			return err == nil && st.Size == 10
		})
		if b.Leading() {
			t.Fatal("B leads while A holds the lease")
		}

		// Kill A: its database connections fail from now on, so it can neither renew nor
		// release; the lease must run out by itself.
		sqlA, err := a.db.DB()
		if err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		sqlA.Close()
		enqueue(t, b, 10, 20)
		took := waitFor(t, 5*time.Second, "B takes over", b.Leading)
		t.Logf("takeover after %v", took.Round(time.Millisecond))
		waitFor(t, 5*time.Second, "B integrates the entries queued after the kill", func() bool {
			st, err := b.Tree(context.Background())
			return err == nil && st.Size == 20
		})
		row := readLease(t, b.db)
		if row.Holder != "B" || row.Epoch != 2 {
			t.Errorf("lease after failover = %+v, want holder B, epoch 2", row)
		}
		waitFor(t, 5*time.Second, "A notices it lost the lease", func() bool { return !a.Leading() })
		if since := time.Since(killed); since > 10*time.Second {
			t.Errorf("failover took %v", since)
		}
		mustFsckOK(t, b.db)
	})
}

// A leader that lost its lease while paused must not integrate or sign when it wakes up, even
// though it still believes it leads; the new leader's work is unaffected.
func TestStaleLeaderIsFenced(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		a, b := twoProcesses(t, d, time.Minute)
		ctx := context.Background()
		if e, err := a.TakeLease(ctx); err != nil || e != 1 {
			t.Fatalf("A takes the lease: epoch %d, %v", e, err)
		}
		if e, err := b.TakeLease(ctx); err != nil || e != 0 {
			t.Fatalf("B takes a held lease: epoch %d, %v; want refused", e, err)
		}
		enqueue(t, a, 0, 5)
		if n, err := a.Integrate(ctx); err != nil || n != 5 {
			t.Fatalf("leader integrates: %d, %v", n, err)
		}
		mustPublish(t, a)

		// A pauses past its lease (here: the lease is made to expire), and B takes over.
		if err := a.db.Exec(`UPDATE ledger_leader SET expires_us = 1`).Error; err != nil {
			t.Fatal(err)
		}
		if e, err := b.TakeLease(ctx); err != nil || e != 2 {
			t.Fatalf("B takes the expired lease: epoch %d, %v", e, err)
		}
		enqueue(t, a, 5, 8)
		if n, err := a.Integrate(ctx); !errors.Is(err, rights.ErrNotLeader) || n != 0 {
			t.Fatalf("stale leader integrates: %d, %v; want ErrNotLeader", n, err)
		}
		if st, _ := a.Tree(ctx); st.Size != 5 {
			t.Fatalf("tree size after the stale leader's attempt = %d, want 5", st.Size)
		}
		if n, err := b.Integrate(ctx); err != nil || n != 3 {
			t.Fatalf("new leader integrates: %d, %v", n, err)
		}
		// The tree has grown past the last checkpoint: the stale leader would sign it if the
		// fence let it.
		if _, _, err := a.Publish(ctx); !errors.Is(err, rights.ErrNotLeader) {
			t.Fatalf("stale leader publishes: %v; want ErrNotLeader", err)
		}
		c := mustPublish(t, b)
		if c.Size != 8 {
			t.Errorf("new leader's checkpoint size = %d, want 8", c.Size)
		}
		var n int64
		a.db.Raw(`SELECT count(*) FROM ledger_checkpoints`).Scan(&n)
		if n != 2 {
			t.Errorf("%d checkpoints stored, want 2 (sizes 5 and 8)", n)
		}
		mustFsckOK(t, a.db)
	})
}

// A process that stops cleanly hands the lease over at once instead of letting it run out.
func TestLeaderReleasesOnStop(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		a, b := twoProcesses(t, d, time.Minute)
		stopA := runLog(t, a)
		waitFor(t, 5*time.Second, "A leads", a.Leading)
		if err := stopA(); err != nil {
			t.Fatal(err)
		}
		if a.Leading() {
			t.Error("A still leads after Run returned")
		}
		if row := readLease(t, a.db); row.ExpiresUS != 0 || row.Holder != "A" {
			t.Fatalf("lease after A stopped = %+v, want A's released (expires_us 0)", row)
		}
		// With a one-minute lease, only the release lets B lead within seconds.
		runLog(t, b)
		waitFor(t, 5*time.Second, "B leads after A's release", b.Leading)
	})
}
