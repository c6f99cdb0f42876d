package rights_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
	"gorm.io/gorm"

	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
	"ziyuan/rights"
)

func TestEnqueueDedupesByKey(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lg := openLog(t, db.DB)
		var first, second rights.Queued
		err := db.Transaction(func(tx *gorm.DB) error {
			var err error
			if first, err = lg.Enqueue(ctx, tx, workEntry(1), "work.published:1"); err != nil {
				return err
			}
			// A retry with a different time (the usual case) is still the same entry.
			second, err = lg.Enqueue(ctx, tx, workEntry(2), "work.published:1")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if first.Existing || !second.Existing || second.Seq != first.Seq || first.Integrated() {
			t.Fatalf("first %+v second %+v", first, second)
		}
		if _, err := lg.IndexOf(ctx, "work.published:1"); !errors.Is(err, rights.ErrPending) {
			t.Fatalf("IndexOf before integration: %v, want ErrPending", err)
		}
		if n := drain(t, lg); n != 1 {
			t.Fatalf("integrated %d entries, want 1", n)
		}
		idx, err := lg.IndexOf(ctx, "work.published:1")
		if err != nil || idx != 0 {
			t.Fatalf("IndexOf = %d, %v", idx, err)
		}
		// After integration a repeat is still a no-op that reports the index.
		var third rights.Queued
		db.Transaction(func(tx *gorm.DB) error {
			third, err = lg.Enqueue(ctx, tx, workEntry(3), "work.published:1")
			return err
		})
		if err != nil || !third.Existing || third.Index != 0 {
			t.Fatalf("third enqueue %+v, %v", third, err)
		}
		if n := drain(t, lg); n != 0 {
			t.Fatalf("a duplicate was integrated")
		}
		ev, err := lg.Entry(ctx, 0)
		if err != nil || ev.Entry.Subjects[0].ID != workEntry(1).Subjects[0].ID {
			t.Fatalf("entry 0 = %+v, %v; want the first enqueued", ev, err)
		}
		if _, err := lg.IndexOf(ctx, "nope"); !errors.Is(err, rights.ErrNotFound) {
			t.Fatalf("unknown key: %v", err)
		}
	})
}

func TestEnqueueCommitsWithCallerTransaction(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lg := openLog(t, db.DB)
		boom := errors.New("business rule failed")
		err := db.Transaction(func(tx *gorm.DB) error {
			if _, err := lg.Enqueue(ctx, tx, workEntry(1), "rolled-back"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if _, err := lg.Lookup(ctx, "rolled-back"); !errors.Is(err, rights.ErrNotFound) {
			t.Fatalf("rolled-back entry is queued: %v", err)
		}
		if n := drain(t, lg); n != 0 {
			t.Fatalf("integrated %d entries of a rolled-back transaction", n)
		}
	})
}

func TestEnqueueValidates(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lg := openLog(t, db.DB)
		enqueue(t, lg, 0, 2)
		drain(t, lg)
		leaf0 := tlog.RecordHash(mustData(t, lg, 0))
		cases := []struct {
			name string
			e    rights.Entry
			key  string
			ok   bool
		}{
			{"valid parent", withParents(workEntry(5), rights.Parent{Index: 0, LeafHash: leaf0}), "p-ok", true},
			{"parent not in ledger", withParents(workEntry(6), rights.Parent{Index: 7, LeafHash: leaf0}), "p-missing", false},
			{"parent hash wrong", withParents(workEntry(7), rights.Parent{Index: 1, LeafHash: leaf0}), "p-wrong", false},
			{"empty key", workEntry(8), "", false},
			{"control char in key", workEntry(9), "a\nb", false},
			{"invalid entry", rights.Entry{Type: "x"}, "bad", false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				err := db.Transaction(func(tx *gorm.DB) error {
					_, err := lg.Enqueue(ctx, tx, c.e, c.key)
					return err
				})
				if c.ok && err != nil {
					t.Fatal(err)
				}
				if !c.ok && !errors.Is(err, rights.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
			})
		}
		// A zero time is filled from the injected clock.
		var q rights.Queued
		e := workEntry(10)
		e.Time = time.Time{}
		err := db.Transaction(func(tx *gorm.DB) (err error) { q, err = lg.Enqueue(ctx, tx, e, "clock"); return })
		if err != nil {
			t.Fatal(err)
		}
		drain(t, lg)
		idx, _ := lg.IndexOf(ctx, q.Key)
		ev, err := lg.Entry(ctx, idx)
		if err != nil || ev.Entry.Time.Before(t0) || ev.Entry.Time.After(t0.Add(time.Minute)) {
			t.Fatalf("entry time %v not from the injected clock (%v)", ev.Entry.Time, err)
		}
	})
}

func withParents(e rights.Entry, p ...rights.Parent) rights.Entry {
	e.Parents = p
	return e
}

func mustData(t testing.TB, lg *testLog, i int64) []byte {
	t.Helper()
	ev, err := lg.Entry(context.Background(), i)
	if err != nil {
		t.Fatal(err)
	}
	return ev.Data
}

// TestConcurrentEnqueue has 64 goroutines enqueue in their own transactions while the
// sequencer runs; every entry must end up exactly once with dense indexes.
func TestConcurrentEnqueue(t *testing.T) {
	storetest.Each(t, sources, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		lg := openLog(t, db.DB, func(c *rights.Config) { c.PollInterval = 5 * time.Millisecond })
		runDone := make(chan error, 1)
		go func() { runDone <- lg.Run(ctx) }()
		const workers, each = 64, 8
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					n := w*each + i
					err := db.Transaction(func(tx *gorm.DB) error {
						_, err := lg.Enqueue(ctx, tx, workEntry(n), fmt.Sprintf("c-%d", n))
						return err
					})
					if err != nil {
						errs <- err
					}
					// Every third entry is enqueued twice to exercise dedupe under contention.
					if n%3 == 0 {
						err := db.Transaction(func(tx *gorm.DB) error {
							_, err := lg.Enqueue(ctx, tx, workEntry(n), fmt.Sprintf("c-%d", n))
							return err
						})
						if err != nil {
							errs <- err
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		seen := map[int64]string{}
		waitCtx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		defer wcancel()
		for n := range workers * each {
			key := fmt.Sprintf("c-%d", n)
			idx, err := lg.WaitIndexed(waitCtx, key)
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			if other, dup := seen[idx]; dup {
				t.Fatalf("index %d given to %s and %s", idx, other, key)
			}
			seen[idx] = key
		}
		cancel()
		if err := <-runDone; err != nil {
			t.Fatal(err)
		}
		st, err := lg.Tree(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Size != workers*each {
			t.Fatalf("tree size %d, want %d", st.Size, workers*each)
		}
		for i := range int64(workers * each) {
			if _, ok := seen[i]; !ok {
				t.Fatalf("gap at index %d", i)
			}
		}
		rep := mustFsckOK(t, db.DB)
		if rep.Entries != workers*each || rep.Pending != 0 {
			t.Fatalf("fsck report %+v", rep)
		}
	})
}
