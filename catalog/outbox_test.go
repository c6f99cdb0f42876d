package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"ziyuan/catalog"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
)

func sources() []store.Source { return []store.Source{{Name: "catalog", FS: catalog.SchemaFS()}} }

// memEngine is an in-memory engine recording what it was told, with switchable failures.
type memEngine struct {
	mu      sync.Mutex
	docs    map[string]catalog.Document
	calls   int
	fail    error // returned by Upsert/Delete while set
	reject  string
	applied []string // "upsert:id:title" / "delete:id", in order
}

func newMem() *memEngine { return &memEngine{docs: map[string]catalog.Document{}} }

func (m *memEngine) EnsureIndex(context.Context) error { return nil }
func (m *memEngine) Upsert(_ context.Context, docs ...catalog.Document) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.fail != nil {
		return m.fail
	}
	for _, d := range docs {
		if d.ID == m.reject {
			return errors.New("document rejected")
		}
	}
	for _, d := range docs {
		m.docs[d.ID] = d
		m.applied = append(m.applied, "upsert:"+d.ID+":"+d.Title)
	}
	return nil
}
func (m *memEngine) Delete(_ context.Context, ids ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.fail != nil {
		return m.fail
	}
	for _, id := range ids {
		delete(m.docs, id)
		m.applied = append(m.applied, "delete:"+id)
	}
	return nil
}
func (m *memEngine) Wait(context.Context) error { return nil }
func (m *memEngine) Search(context.Context, catalog.Query) (catalog.Result, error) {
	return catalog.Result{}, nil
}
func (m *memEngine) Close() error { return nil }
func (m *memEngine) has(id string) (catalog.Document, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[id]
	return d, ok
}
func (m *memEngine) set(fail error, reject string) {
	m.mu.Lock()
	m.fail, m.reject = fail, reject
	m.mu.Unlock()
}

func doc(id, title string) catalog.Document {
	return catalog.Document{ID: id, Title: title, Type: "课件", Stage: "初中", Subject: "数学", License: "cc-by",
		PublishedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func enqueue(t *testing.T, db *store.DB, changes ...catalog.Change) {
	t.Helper()
	err := db.Transaction(func(tx *gorm.DB) error { return catalog.Enqueue(context.Background(), tx, changes...) })
	if err != nil {
		t.Fatal(err)
	}
}

func pending(t *testing.T, db *store.DB) int64 {
	t.Helper()
	var n int64
	if err := db.Raw("SELECT COUNT(*) FROM catalog_outbox WHERE dead_us IS NULL").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOutboxAppliesInOrderAndEmpties(t *testing.T) {
	storetest.Each(t, sources(), func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m := newMem()
		enqueue(t, db, catalog.Upserted(doc("r1", "v1")), catalog.Upserted(doc("r2", "a")))
		enqueue(t, db, catalog.Upserted(doc("r1", "v2")))
		enqueue(t, db, catalog.Deleted("r2"), catalog.Upserted(doc("r1", "v3")))
		w := catalog.NewWorker(db.DB, m, catalog.WorkerOptions{BatchSize: 10})
		n, err := w.Drain(ctx)
		if err != nil || n != 5 {
			t.Fatalf("Drain = %d, %v; want 5 changes", n, err)
		}
		if d, ok := m.has("r1"); !ok || d.Title != "v3" {
			t.Errorf("r1 = %+v, want v3 (the last change wins)", d)
		}
		if _, ok := m.has("r2"); ok {
			t.Errorf("r2 still indexed after its delete")
		}
		// the changes of one document reach the engine in commit order
		var r1 []string
		for _, a := range m.applied {
			if a[:9] == "upsert:r1" {
				r1 = append(r1, a)
			}
		}
		if !slices.Equal(r1, []string{"upsert:r1:v1", "upsert:r1:v2", "upsert:r1:v3"}) {
			t.Errorf("r1 changes applied as %v", r1)
		}
		if p := pending(t, db); p != 0 {
			t.Errorf("%d changes left in the outbox", p)
		}
		if lag, err := w.Lag(ctx); err != nil || lag != 0 {
			t.Errorf("Lag = %v, %v; want 0 on an empty outbox", lag, err)
		}
	})
}

func TestOutboxRollbackEnqueuesNothing(t *testing.T) {
	storetest.Each(t, sources(), func(t *testing.T, db *store.DB) {
		boom := errors.New("business rule failed")
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := catalog.Enqueue(context.Background(), tx, catalog.Upserted(doc("r1", "x"))); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if p := pending(t, db); p != 0 {
			t.Errorf("rolled-back transaction left %d outbox rows", p)
		}
	})
}

func TestEnqueueRefusesInvalidChanges(t *testing.T) {
	storetest.Each(t, sources(), func(t *testing.T, db *store.DB) {
		for _, c := range []catalog.Change{
			catalog.Upserted(catalog.Document{ID: "", Title: "x"}),
			catalog.Deleted(""),
			{Op: "rename", ID: "x"},
			{Op: catalog.OpUpsert, ID: "a", Document: doc("b", "t")},
		} {
			err := catalog.Enqueue(context.Background(), db.DB, c)
			if !catalog.IsInvalid(err) {
				t.Errorf("Enqueue(%+v) = %v, want a ValidationError", c, err)
			}
		}
	})
}

func TestOutboxRetriesWithBackoffWhileEngineIsDown(t *testing.T) {
	storetest.Each(t, sources(), func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		m := newMem()
		m.set(fmt.Errorf("connection refused: %w", catalog.ErrUnavailable), "")
		enqueue(t, db, catalog.Upserted(doc("r1", "v1")))
		w := catalog.NewWorker(db.DB, m, catalog.WorkerOptions{PollInterval: 10 * time.Millisecond,
			MinBackoff: 20 * time.Millisecond, MaxBackoff: 80 * time.Millisecond})
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()
		time.Sleep(600 * time.Millisecond)
		m.mu.Lock()
		calls := m.calls
		m.mu.Unlock()
		// with backoff capped at 80ms (jittered 40–80ms), 600ms allow at most ~16 attempts; without
		// backoff a 10ms poll would make ~60
		if calls < 3 || calls > 20 {
			t.Errorf("engine called %d times in 600ms while down, want a backed-off handful", calls)
		}
		st, err := w.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending != 1 || st.Failures == 0 || st.Consecutive == 0 || st.LastError == "" || st.Lag <= 0 {
			t.Errorf("stats while down = %+v", st)
		}
		m.set(nil, "")
		// The engine has the change before the worker deletes its row: wait for both.
		deadline := time.Now().Add(3 * time.Second)
		for {
			_, ok := m.has("r1")
			if st, err = w.Stats(ctx); err != nil {
				t.Fatal(err)
			}
			if ok && st.Pending == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("change not applied after the engine came back: in engine %v, stats %+v", ok, st)
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
		st, _ = w.Stats(context.Background())
		if st.Pending != 0 || st.Consecutive != 0 || st.Processed != 1 {
			t.Errorf("stats after recovery = %+v", st)
		}
		// an engine that is down says nothing about the change: no attempt was counted, none dead
		if st.Dead != 0 {
			t.Errorf("%d changes set aside because the engine was down", st.Dead)
		}
	})
}

func TestOutboxSetsAsideAChangeTheEngineKeepsRejecting(t *testing.T) {
	storetest.Each(t, sources(), func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		m := newMem()
		m.set(nil, "bad")
		enqueue(t, db, catalog.Upserted(doc("ok1", "a")), catalog.Upserted(doc("bad", "b")), catalog.Upserted(doc("ok2", "c")))
		w := catalog.NewWorker(db.DB, m, catalog.WorkerOptions{MaxAttempts: 3})
		for i := 0; i < 10; i++ {
			w.Step(ctx)
		}
		for _, id := range []string{"ok1", "ok2"} {
			if _, ok := m.has(id); !ok {
				t.Errorf("%s not applied: one bad change blocked the others", id)
			}
		}
		st, err := w.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Dead != 1 || st.Pending != 0 {
			t.Errorf("stats = %+v, want the bad change dead and nothing pending", st)
		}
	})
}

func TestOutboxResumesAfterRestartAndExpiredClaims(t *testing.T) {
	storetest.Each(t, sources(), func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now()
		clock := func() time.Time { return now }
		enqueue(t, db, catalog.Upserted(doc("r1", "v1")))
		// a worker claimed the change and died before applying it: its claim is still in the table
		if err := db.Exec("UPDATE catalog_outbox SET claimed_by = 'gone', claimed_until_us = ?", now.Add(time.Minute).UnixMicro()).Error; err != nil {
			t.Fatal(err)
		}
		m2 := newMem()
		w := catalog.NewWorker(db.DB, m2, catalog.WorkerOptions{Lease: time.Minute, Now: clock})
		if n, err := w.Drain(ctx); err != nil || n != 0 {
			t.Fatalf("Drain while claimed = %d, %v; want 0 (the claim still holds)", n, err)
		}
		now = now.Add(2 * time.Minute) // the lease runs out
		if n, err := w.Drain(ctx); err != nil || n != 1 {
			t.Fatalf("Drain after the lease = %d, %v; want 1", n, err)
		}
		if _, ok := m2.has("r1"); !ok {
			t.Error("change not applied after restart")
		}
	})
}

func TestOutboxConcurrentWorkersApplyEachChangeOnceInOrder(t *testing.T) {
	storetest.Each(t, sources(), func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const docs, versions = 30, 4
		for v := 1; v <= versions; v++ {
			var cs []catalog.Change
			for i := 0; i < docs; i++ {
				cs = append(cs, catalog.Upserted(doc(fmt.Sprintf("r%02d", i), fmt.Sprintf("v%d", v))))
			}
			enqueue(t, db, cs...)
		}
		m := newMem()
		var wg sync.WaitGroup
		var applied atomic.Int64
		for i := 0; i < 4; i++ {
			w := catalog.NewWorker(db.DB, m, catalog.WorkerOptions{BatchSize: 7})
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 200 {
					n, err := w.Step(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					applied.Add(int64(n))
					if pending(t, db) == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		if got := applied.Load(); got != docs*versions {
			t.Errorf("workers applied %d changes, want exactly %d", got, docs*versions)
		}
		for i := 0; i < docs; i++ {
			id := fmt.Sprintf("r%02d", i)
			d, _ := m.has(id)
			if d.Title != fmt.Sprintf("v%d", versions) {
				t.Errorf("%s = %q, want the last version", id, d.Title)
			}
			var seq []string
			for _, a := range m.applied {
				if len(a) > 11 && a[7:10] == id {
					seq = append(seq, a[11:])
				}
			}
			if !slices.Equal(seq, []string{"v1", "v2", "v3", "v4"}) {
				t.Errorf("%s versions applied as %v, want v1..v4 once each in order", id, seq)
			}
		}
	})
}
