package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"testing"

	"ziyuan/catalog"
)

func changes(cs ...catalog.Change) iter.Seq2[catalog.Change, error] {
	return func(yield func(catalog.Change, error) bool) {
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
}

func TestApplyChanges(t *testing.T) {
	ctx := context.Background()
	nth := func(i int) catalog.Document { return doc(fmt.Sprintf("r%04d", i), fmt.Sprintf("资源 %d", i)) }
	m := newMem()
	m.Upsert(ctx, nth(9000))
	var cs []catalog.Change
	for i := range catalog.ReindexBatch + 5 {
		cs = append(cs, catalog.Upserted(nth(i)))
	}
	cs = append(cs, catalog.Deleted("r9000"))
	n, err := catalog.ApplyChanges(ctx, m, changes(cs...))
	if err != nil || n != len(cs) {
		t.Fatalf("ApplyChanges = %d, %v; want %d", n, err, len(cs))
	}
	if _, ok := m.has("r9000"); ok {
		t.Error("the removed document is still there")
	}
	if d, ok := m.has(fmt.Sprintf("r%04d", catalog.ReindexBatch+4)); !ok || d.Title != fmt.Sprintf("资源 %d", catalog.ReindexBatch+4) {
		t.Errorf("last document of the second batch: %+v %v", d, ok)
	}
	if m.calls != 1+3 { // the setup, two batches of upserts, one removal
		t.Errorf("%d engine calls, want batches of %d", m.calls-1, catalog.ReindexBatch)
	}

	bad := nth(1)
	bad.ID = "bad id"
	if _, err := catalog.ApplyChanges(ctx, newMem(), changes(catalog.Upserted(bad))); !catalog.IsInvalid(err) {
		t.Errorf("invalid document: err = %v", err)
	}
	failing := func(yield func(catalog.Change, error) bool) { yield(catalog.Change{}, errors.New("database gone")) }
	if _, err := catalog.ApplyChanges(ctx, newMem(), failing); err == nil {
		t.Error("a read error was not reported")
	}
	down := newMem()
	down.set(catalog.ErrUnavailable, "")
	if _, err := catalog.ApplyChanges(ctx, down, changes(catalog.Upserted(nth(1)))); !errors.Is(err, catalog.ErrUnavailable) {
		t.Errorf("engine down: err = %v", err)
	}
}
