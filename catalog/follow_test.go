package catalog_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"ziyuan/catalog"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
)

// positioned is a memEngine that keeps a feed position, as a bleve index does.
type positioned struct {
	*memEngine
	pos catalog.FeedPosition
}

func newPositioned() *positioned { return &positioned{memEngine: newMem()} }

func (p *positioned) FeedPosition(context.Context) (catalog.FeedPosition, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pos, nil
}

func (p *positioned) SetFeedPosition(_ context.Context, fp catalog.FeedPosition) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pos = fp
	return nil
}

func (p *positioned) snapshot() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]string{}
	for id, d := range p.docs {
		out[id] = d.Title
	}
	return out
}

// truth is the source of truth the tests change together with the outbox, as market changes
// resources: a rebuild reads it.
type truth struct{ db *store.DB }

func newTruth(t *testing.T, db *store.DB) truth {
	t.Helper()
	if err := db.Exec(`CREATE TABLE test_truth (doc_id TEXT PRIMARY KEY, title TEXT NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	return truth{db}
}

// change sets (title != "") or deletes a document and enqueues the change, in one transaction.
func (tr truth) change(ctx context.Context, id, title string) error {
	return tr.db.Transaction(func(tx *gorm.DB) error {
		if title == "" {
			if err := tx.Exec(`DELETE FROM test_truth WHERE doc_id = ?`, id).Error; err != nil {
				return err
			}
			return catalog.Enqueue(ctx, tx, catalog.Deleted(id))
		}
		if err := tx.Exec(`INSERT INTO test_truth (doc_id, title) VALUES (?, ?)
ON CONFLICT (doc_id) DO UPDATE SET title = excluded.title`, id, title).Error; err != nil {
			return err
		}
		return catalog.Enqueue(ctx, tx, catalog.Upserted(doc(id, title)))
	})
}

func (tr truth) state(t *testing.T) map[string]string {
	t.Helper()
	var rows []struct{ DocID, Title string }
	if err := tr.db.Raw(`SELECT doc_id, title FROM test_truth`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.DocID] = r.Title
	}
	return out
}

// rebuild fills e from the truth table, as Reindex fills an index from the database.
func (tr truth) rebuild(e *positioned) func(context.Context) error {
	return func(ctx context.Context) error {
		var rows []struct{ DocID, Title string }
		if err := tr.db.WithContext(ctx).Raw(`SELECT doc_id, title FROM test_truth`).Scan(&rows).Error; err != nil {
			return err
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		clear(e.docs)
		for _, r := range rows {
			e.docs[r.DocID] = doc(r.DocID, r.Title)
		}
		return nil
	}
}

func follower(db *store.DB, e *positioned, tr truth, mod ...func(*catalog.FollowerOptions)) *catalog.Follower {
	opts := catalog.FollowerOptions{PollInterval: 5 * time.Millisecond, Rebuild: tr.rebuild(e)}
	for _, m := range mod {
		m(&opts)
	}
	return catalog.NewFollower(db.DB, e, opts)
}

// Several instances each keep their own index: every index receives every change, each
// document's changes in order, while producers commit concurrently.
func TestFollowersEachApplyEveryChangeInOrder(t *testing.T) {
	storetest.Each(t, sources(), func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tr := newTruth(t, db)
		engines := []*positioned{newPositioned(), newPositioned(), newPositioned()}
		var runs sync.WaitGroup
		var late *catalog.Follower
		for i, e := range engines {
			f := follower(db, e, tr)
			rebuilt, err := f.Start(ctx)
			if err != nil || !rebuilt {
				t.Fatalf("Start of a new index: rebuilt %v, %v; want a rebuild", rebuilt, err)
			}
			if i == 2 {
				late = f
				continue // the third runs only from halfway through, like an instance that was paused
			}
			runs.Add(1)
			go func() { defer runs.Done(); f.Run(ctx) }()
		}

		const producers, docsEach, versions = 4, 6, 5
		var wg sync.WaitGroup
		errs := make(chan error, producers)
		for p := range producers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for v := 1; v <= versions; v++ {
					for d := range docsEach {
						id := fmt.Sprintf("p%d-d%d", p, d)
						title := fmt.Sprintf("v%d", v)
						if v == 3 && d%3 == 0 {
							title = "" // deleted, then upserted again by v4
						}
						if err := tr.change(ctx, id, title); err != nil {
							errs <- err
							return
						}
					}
					if v == 3 && p == 0 {
						runs.Add(1)
						go func() { defer runs.Done(); late.Run(ctx) }()
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		want := tr.state(t)
		if len(want) != producers*docsEach {
			t.Fatalf("truth has %d documents, want %d", len(want), producers*docsEach)
		}
		deadline := time.Now().Add(10 * time.Second)
		for i, e := range engines {
			for !maps.Equal(e.snapshot(), want) {
				if time.Now().After(deadline) {
					t.Fatalf("index %d = %v, want %v", i, e.snapshot(), want)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		cancel()
		runs.Wait()
		// Each index saw each document's versions in increasing order (some collapsed away).
		for i, e := range engines[:2] {
			seen := map[string][]int{}
			for _, a := range e.applied {
				parts := strings.Split(a, ":")
				if parts[0] != "upsert" {
					continue
				}
				v, _ := strconv.Atoi(strings.TrimPrefix(parts[2], "v"))
				seen[parts[1]] = append(seen[parts[1]], v)
			}
			for id, vs := range seen {
				if !slices.IsSorted(vs) {
					t.Errorf("index %d applied %s's versions out of order: %v", i, id, vs)
				}
			}
		}
	})
}

// A change whose transaction began first but commits last gets a later position and is still
// applied: a follower that already read past the earlier-numbered rows does not skip it.
// PostgreSQL only: SQLite's writers never overlap.
func TestFollowerDoesNotSkipALateCommit(t *testing.T) {
	db := storetest.Open(t, store.Postgres, sources()...)
	ctx := context.Background()
	tr := newTruth(t, db)
	e := newPositioned()
	f := follower(db, e, tr)
	if _, err := f.Start(ctx); err != nil {
		t.Fatal(err)
	}
	slow := db.Begin()
	defer slow.Rollback()
	if err := catalog.Enqueue(ctx, slow, catalog.Upserted(doc("slow", "v1"))); err != nil {
		t.Fatal(err)
	}
	if err := tr.change(ctx, "fast", "v1"); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Drain(ctx); err != nil || n != 1 {
		t.Fatalf("Drain with one change committed: %d, %v", n, err)
	}
	if err := slow.Commit().Error; err != nil {
		t.Fatal(err)
	}
	if n, err := f.Drain(ctx); err != nil || n != 1 {
		t.Fatalf("Drain after the late commit: %d, %v; want the late change", n, err)
	}
	if _, ok := e.has("slow"); !ok {
		t.Fatal("the change that committed late was skipped")
	}
}

// Pruning keeps what the slowest live follower needs; a follower away longer than Retain is
// forgotten and rebuilds when it returns; one that is within the feed resumes without a rebuild.
func TestFollowerPruningAndReturn(t *testing.T) {
	storetest.Each(t, sources(), func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tr := newTruth(t, db)
		now := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		rebuilds := map[string]int{}
		counting := func(name string, e *positioned) func(*catalog.FollowerOptions) {
			return func(o *catalog.FollowerOptions) {
				inner := tr.rebuild(e)
				o.Now, o.Retain = clock, time.Hour
				o.Rebuild = func(ctx context.Context) error { rebuilds[name]++; return inner(ctx) }
			}
		}
		ea, eb := newPositioned(), newPositioned()
		a, b := follower(db, ea, tr, counting("a", ea)), follower(db, eb, tr, counting("b", eb))
		for _, f := range []*catalog.Follower{a, b} {
			if _, err := f.Start(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 10 {
			if err := tr.change(ctx, fmt.Sprintf("d%d", i), "v1"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := b.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if err := tr.change(ctx, fmt.Sprintf("d%d", i), "v2"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		// b is at position 10, a at 15: pruning keeps 11..15 for b.
		if err := a.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		var left []int64
		db.Raw(`SELECT pos FROM catalog_outbox ORDER BY pos`).Scan(&left)
		if !slices.Equal(left, []int64{11, 12, 13, 14, 15}) {
			t.Fatalf("after pruning, positions %v remain; want 11..15 (what b still needs)", left)
		}

		// b goes away for two hours; a keeps working and prunes.
		now = now.Add(2 * time.Hour)
		if err := tr.change(ctx, "d9", "v3"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		var remaining int64
		db.Raw(`SELECT count(*) FROM catalog_outbox`).Scan(&remaining)
		if remaining != 0 {
			t.Fatalf("%d changes kept for a follower gone longer than Retain", remaining)
		}

		// b returns with an index behind the pruned feed: Start rebuilds it.
		b2 := follower(db, eb, tr, counting("b", eb))
		rebuilt, err := b2.Start(ctx)
		if err != nil || !rebuilt || rebuilds["b"] != 2 {
			t.Fatalf("returning follower: rebuilt %v, %v, %d rebuilds; want a second rebuild", rebuilt, err, rebuilds["b"])
		}
		if got, want := eb.snapshot(), tr.state(t); !maps.Equal(got, want) {
			t.Fatalf("rebuilt index = %v, want %v", got, want)
		}
		// a restarts within the feed: it resumes without a rebuild.
		a2 := follower(db, ea, tr, counting("a", ea))
		if rebuilt, err := a2.Start(ctx); err != nil || rebuilt || rebuilds["a"] != 1 {
			t.Fatalf("restarted follower: rebuilt %v, %v, %d rebuilds; want a resume", rebuilt, err, rebuilds["a"])
		}
	})
}

// An index whose directory was wiped has no position and is rebuilt, even though its follower
// name is still known to the database.
func TestFollowerRebuildsAWipedIndex(t *testing.T) {
	storetest.Each(t, sources(), func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tr := newTruth(t, db)
		e := newPositioned()
		f := follower(db, e, tr)
		if _, err := f.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := tr.change(ctx, "d1", "v1"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Drain(ctx); err != nil {
			t.Fatal(err)
		}
		wiped := newPositioned()
		rebuilt, err := follower(db, wiped, tr).Start(ctx)
		if err != nil || !rebuilt {
			t.Fatalf("Start on a wiped index: rebuilt %v, %v", rebuilt, err)
		}
		if _, ok := wiped.has("d1"); !ok {
			t.Fatal("the rebuild did not restore the document")
		}
	})
}
