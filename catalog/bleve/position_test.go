package bleve_test

import (
	"context"
	"path/filepath"
	"testing"

	"ziyuan/catalog"
	"ziyuan/catalog/bleve"
)

// The feed position is kept in the index: it survives a reopen, and a new index has none (so
// a catalog.Follower rebuilds it).
func TestFeedPositionLivesWithTheIndex(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "index")
	e, err := bleve.Open(dir, bleve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := e.FeedPosition(ctx); err != nil || p != (catalog.FeedPosition{}) {
		t.Fatalf("new index: position %+v, %v; want none", p, err)
	}
	want := catalog.FeedPosition{Follower: "f1", Pos: 42}
	if err := e.SetFeedPosition(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e, err = bleve.Open(dir, bleve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if p, err := e.FeedPosition(ctx); err != nil || p != want {
		t.Fatalf("reopened: position %+v, %v; want %+v", p, err, want)
	}
	e.Close()
	if _, err := e.FeedPosition(ctx); err == nil {
		t.Fatal("a closed index answered")
	}
}
