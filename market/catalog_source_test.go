package market_test

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"ziyuan/catalog"
	"ziyuan/market"
	"ziyuan/market/markettest"
)

// memIndex is an in-memory engine: re-delivery through the outbox does not depend on the engine.
type memIndex struct {
	mu   sync.Mutex
	docs map[string]catalog.Document
}

func newMemIndex() *memIndex { return &memIndex{docs: map[string]catalog.Document{}} }

func (m *memIndex) EnsureIndex(context.Context) error { return nil }
func (m *memIndex) Upsert(_ context.Context, docs ...catalog.Document) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range docs {
		d.PublishedAt = d.PublishedAt.UTC() // the outbox's JSON and the database give other locations
		m.docs[d.ID] = d
	}
	return nil
}
func (m *memIndex) Delete(_ context.Context, ids ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		delete(m.docs, id)
	}
	return nil
}
func (m *memIndex) Wait(context.Context) error { return nil }
func (m *memIndex) Search(context.Context, catalog.Query) (catalog.Result, error) {
	return catalog.Result{}, nil
}
func (m *memIndex) Close() error { return nil }
func (m *memIndex) snapshot() map[string]catalog.Document {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.docs)
}

// built returns the index a rebuild from the database gives now: what the live index must hold.
func built(t *testing.T, e *markettest.Env) *memIndex {
	t.Helper()
	idx := newMemIndex()
	src, err := e.M.CatalogSource(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := catalog.Reindex(context.Background(), src, idx, nil); err != nil {
		t.Fatal(err)
	}
	return idx
}

func drain(t *testing.T, w *catalog.Worker) {
	t.Helper()
	if _, err := w.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// diff names the documents in which two indexes differ.
func diff(got, want map[string]catalog.Document) []string {
	var out []string
	for id, d := range want {
		if g, ok := got[id]; !ok {
			out = append(out, "missing "+d.Title)
		} else if !reflect.DeepEqual(g, d) {
			out = append(out, "stale "+d.Title)
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			out = append(out, "extra "+g.Title)
		}
	}
	slices.Sort(out)
	return out
}

// A shared index is rebuilt while the site runs: the workers apply what changes meanwhile to the
// old index, so once the new one is live, RedeliverCatalog must bring those changes to it through
// the outbox — and only those (changed since the rebuild began, less the margin).
func TestRedeliverCatalogBringsARebuiltIndexUpToDate(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		ctx := context.Background()
		student, admin := e.As(t, "sun.student"), e.As(t, "admin")
		long := publish(t, e, "li.teacher", lessonMeta("勾股定理复习课", "cc-by"), textUpload("a.txt", "勾股定理复习课的内容"))
		margin := publish(t, e, "li.teacher", lessonMeta("勾股定理导学案", "cc-by"), textUpload("b.txt", "勾股定理导学案的内容"))
		rated := publish(t, e, "li.teacher", lessonMeta("勾股定理课件", "cc-by"), textUpload("c.txt", "勾股定理课件的内容"))
		downloaded := publish(t, e, "li.teacher", lessonMeta("勾股定理微课", "cc-by"), textUpload("d.txt", "勾股定理微课的内容"))
		takenDown := publish(t, e, "chen.teacher", lessonMeta("勾股定理练习", "cc-by"), textUpload("e.txt", "勾股定理练习的内容"))
		for _, r := range []market.Resource{long, margin, rated, downloaded} {
			if _, _, err := e.M.Claim(student, r.ID); err != nil {
				t.Fatal(err)
			}
		}
		old := newMemIndex()
		worker := catalog.NewWorker(e.DB.DB, old, catalog.WorkerOptions{})
		drain(t, worker)

		// Changed an hour before the rebuild: the build sees it, nothing to re-deliver.
		if _, err := e.M.Download(student, long.ID, ""); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(58 * time.Minute)
		// Changed two minutes before the rebuild began: inside the margin (a transaction that
		// committed late), so it is re-delivered although the build saw it.
		if _, err := e.M.Download(student, margin.ID, ""); err != nil {
			t.Fatal(err)
		}
		drain(t, worker)
		e.Clock.Advance(2 * time.Minute)
		begin := e.Clock.Now()

		next := newMemIndex()
		src, err := e.M.CatalogSource(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := catalog.Reindex(ctx, src, next, nil); err != nil {
			t.Fatal(err)
		}

		// While the new index is built (after it read these resources), the workers apply
		// changes to the old one.
		e.Clock.Advance(time.Minute)
		if _, err := e.M.Rate(student, rated.ID, 4, "例题清楚"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.M.Download(student, downloaded.ID, ""); err != nil {
			t.Fatal(err)
		}
		c, err := e.M.FileComplaint(e.As(t, "li.teacher"), takenDown.ID, "与我已发表的练习雷同", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.M.DecideComplaint(admin, c.ID, "uphold", "经核实属实"); err != nil {
			t.Fatal(err)
		}
		fresh := publish(t, e, "li.teacher", lessonMeta("勾股定理探究活动", "cc-by"), textUpload("f.txt", "勾股定理探究活动的内容"))
		drain(t, worker)
		if got := diff(old.snapshot(), built(t, e).snapshot()); len(got) != 0 {
			t.Fatalf("the old index should be up to date before the swap: %v", got)
		}

		// The swap: the workers now write to the new index, which missed those changes.
		worker = catalog.NewWorker(e.DB.DB, next, catalog.WorkerOptions{})
		drain(t, worker)
		want := []string{"extra 勾股定理练习", "missing 勾股定理探究活动", "stale 勾股定理微课", "stale 勾股定理课件"}
		if got := diff(next.snapshot(), built(t, e).snapshot()); !slices.Equal(got, want) {
			t.Fatalf("before re-delivery the new index differs by %v, want %v", got, want)
		}

		red, err := e.M.RedeliverCatalog(ctx, begin.Add(-5*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		// margin, rated, downloaded and fresh again; takenDown removed; long not at all
		if red != (market.CatalogRedelivery{Upserts: 4, Deletes: 1}) {
			t.Errorf("re-delivered %+v, want 4 documents and 1 removal", red)
		}
		drain(t, worker)
		if got := diff(next.snapshot(), built(t, e).snapshot()); len(got) != 0 {
			t.Fatalf("after re-delivery the new index differs by %v", got)
		}

		// Bringing an index up to date before it goes live yields the same changes.
		var ids []string
		for ch, err := range e.M.CatalogChangesSince(ctx, begin.Add(-5*time.Minute)) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, string(ch.Op)+":"+ch.ID)
		}
		wantIDs := []string{"upsert:" + margin.ID, "upsert:" + rated.ID, "upsert:" + downloaded.ID, "delete:" + takenDown.ID, "upsert:" + fresh.ID}
		slices.Sort(ids)
		slices.Sort(wantIDs)
		if !slices.Equal(ids, wantIDs) {
			t.Errorf("CatalogChangesSince = %v, want %v", ids, wantIDs)
		}

		// A transaction that changed a resource and queued its change before the re-delivery
		// reads the resource, but commits after: the re-delivery must wait for it, or the
		// document it queues behind that change would be the older one.
		before := next.snapshot()[rated.ID]
		tx := e.DB.DB.Begin()
		if err := tx.Exec("UPDATE resources SET downloads = downloads + 100 WHERE id = ?", rated.ID).Error; err != nil {
			t.Fatal(err)
		}
		newer := before
		newer.Downloads += 100
		if err := catalog.Enqueue(ctx, tx, catalog.Upserted(newer)); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := e.M.RedeliverCatalog(ctx, begin.Add(-5*time.Minute))
			done <- err
		}()
		time.Sleep(300 * time.Millisecond)
		if err := tx.Commit().Error; err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		drain(t, worker)
		if got := next.snapshot()[rated.ID].Downloads; got != before.Downloads+100 {
			t.Errorf("downloads in the index = %d, want %d: the re-delivery queued a document older than the change before it", got, before.Downloads+100)
		}
	})
}
