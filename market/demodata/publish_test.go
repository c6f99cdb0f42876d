package demodata

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"ziyuan/market"
	"ziyuan/market/files"
	"ziyuan/market/markettest"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
)

// publishSet is the items TestPublishOnMarket publishes: all of them, or under the race
// detector (where publishing all takes over a minute) every derivative, every eighth other item,
// and the ancestors of those, in publication order.
func publishSet(items []Item) []Item {
	if !raceDetector {
		return items
	}
	idx := byKey(items)
	keep := make([]bool, len(items))
	for i := len(items) - 1; i >= 0; i-- {
		if i%8 == 0 || len(items[i].ParentKeys) > 0 {
			keep[i] = true
		}
		if keep[i] {
			for _, pk := range items[i].ParentKeys {
				keep[idx[pk]] = true
			}
		}
	}
	var out []Item
	for i, it := range items {
		if keep[i] {
			out = append(out, it)
		}
	}
	return out
}

// TestPublishOnMarket publishes the items on a real market (SQLite) the way a seeder would:
// create with inspected files, submit with the pledge, approve, then claim and rate. The market
// applies its own taxonomy, offer, derivation, exact-duplicate and rating rules on the way.
func TestPublishOnMarket(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("publishes every demo item on a real market")
	}
	e := markettest.New(t, storetest.Open(t, store.SQLite, market.Schemas()...))
	in := files.NewInspector(files.Limits{}, e.TmpDir)
	reviewer := e.As(t, "zhou.reviewer")
	approve := market.Decision{Decision: "approve", Checklist: map[string]bool{}}
	for _, c := range market.ChecklistItems {
		approve.Checklist[c] = true
	}
	items := publishSet(testItems())
	t.Logf("publishing %d items", len(items))
	ids := map[string]string{}
	for _, it := range items {
		ctx := e.As(t, it.Owner)
		meta := it.Meta
		for _, pk := range it.ParentKeys {
			meta.Parents = append(meta.Parents, ids[pk])
		}
		var uploads []market.Upload
		for _, f := range it.Files {
			u, err := in.Inspect(context.Background(), f.Name, bytes.NewReader(f.Data))
			if err != nil {
				t.Fatalf("%s: %s: %v", it.Key, f.Name, err)
			}
			defer u.Close()
			uploads = append(uploads, market.Upload{Name: u.Name, Size: u.Size, SHA256: u.SHA256, MIME: u.MIME,
				Kind: string(u.Kind), Text: u.Text, Open: func() (io.ReadCloser, error) { return u.Open() }})
		}
		res, err := e.M.CreateResource(ctx, meta, uploads)
		if err != nil {
			t.Fatalf("%s: create: %v", it.Key, err)
		}
		res, err = e.M.Submit(ctx, res.ID, true)
		if err != nil {
			t.Fatalf("%s: submit: %v", it.Key, err)
		}
		if len(res.Similar) > 0 {
			t.Errorf("%s: the market finds it similar to %+v", it.Key, res.Similar)
		}
		if _, err := e.M.Decide(reviewer, res.ID, approve); err != nil {
			t.Fatalf("%s: approve: %v", it.Key, err)
		}
		ids[it.Key] = res.ID
		e.Clock.Advance(time.Minute)
	}
	for _, it := range items {
		for _, login := range it.Claims {
			if _, _, err := e.M.Claim(e.As(t, login), ids[it.Key]); err != nil {
				t.Errorf("%s: claim by %s: %v", it.Key, login, err)
			}
		}
		for _, r := range it.Ratings {
			if _, err := e.M.Rate(e.As(t, r.Login), ids[it.Key], r.Stars, r.Text); err != nil {
				t.Errorf("%s: rating by %s: %v", it.Key, r.Login, err)
			}
		}
	}
	// Lineage as the market sees it: the chain gongyi → li → xuehai of the fraction exercises.
	res, err := e.M.Resource(context.Background(), ids["math-3a-fraction-challenge-exercise"])
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ParentRefs) != 1 || res.ParentRefs[0].ID != ids["math-3a-fraction-tiered-exercise"] {
		t.Errorf("parents of the challenge exercise: %+v", res.ParentRefs)
	}
}
