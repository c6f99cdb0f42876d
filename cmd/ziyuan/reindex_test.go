package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"ziyuan/market/store"
)

// fakeMeilisearch answers the routes of the Meilisearch adapter with handwritten Meilisearch v1
// responses in which every task succeeds, and records the requests. It checks the command's
// wiring, not Meilisearch: catalog/meili's replay tests check the adapter's requests in detail.
type fakeMeilisearch struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string // "METHOD path", task polls left out
	bodies   map[string][][]byte
	tasks    int
}

func newFakeMeilisearch(t *testing.T) *fakeMeilisearch {
	f := &fakeMeilisearch{bodies: map[string][][]byte{}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		key := r.Method + " " + r.URL.Path
		switch {
		case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/tasks/"):
			uid := strings.TrimPrefix(r.URL.Path, "/tasks/")
			fmt.Fprintf(w, `{"uid": %s, "indexUid": null, "status": "succeeded", "type": "unknown", "details": {}, "error": null}`, uid)
			return
		case strings.HasSuffix(r.URL.Path, "/documents/fetch"):
			fmt.Fprint(w, `{"results": [], "offset": 0, "limit": 1000, "total": 0}`)
		case r.Method == "POST" || r.Method == "PATCH" || r.Method == "DELETE":
			f.tasks++
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprintf(w, `{"taskUid": %d, "indexUid": null, "status": "enqueued", "type": "unknown", "enqueuedAt": "2026-09-01T08:00:00Z"}`, f.tasks)
		default:
			t.Errorf("unexpected request %s", key)
			w.WriteHeader(http.StatusNotFound)
		}
		f.requests = append(f.requests, key)
		f.bodies[key] = append(f.bodies[key], body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeMeilisearch) take() ([]string, map[string][][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, b := f.requests, f.bodies
	f.requests, f.bodies = nil, map[string][][]byte{}
	return r, b
}

func countDocs(t *testing.T, body []byte) int {
	t.Helper()
	var docs []map[string]any
	if err := json.Unmarshal(body, &docs); err != nil {
		t.Fatalf("documents body: %v", err)
	}
	return len(docs)
}

func TestReindexOnMeilisearch(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ZIYUAN_DATA": dir}
	if out, err := runCLI(t, env, "seed", "--demo"); err != nil {
		t.Fatalf("seed: %v %s", err, out)
	}
	db, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(sql string) int {
		t.Helper()
		var n int64
		if err := db.Raw(sql).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	published := count("SELECT COUNT(*) FROM resources WHERE published_version_id IS NOT NULL AND status <> 'taken_down'")
	removed := count("SELECT COUNT(*) FROM resources WHERE catalog_changed_at IS NOT NULL AND (published_version_id IS NULL OR status = 'taken_down')")
	queued := count("SELECT COUNT(*) FROM catalog_outbox")
	if published == 0 {
		t.Fatal("the demo published nothing")
	}

	meili := newFakeMeilisearch(t)
	env["MEILI_URL"] = meili.URL
	out, err := runCLI(t, env, "reindex")
	if err != nil {
		t.Fatalf("reindex: %v\n%s", err, out)
	}
	t.Logf("reindex:\n%s", out)
	next := regexp.MustCompile(`resources_\d{8}_\d{6}`).FindString(out)
	// The demo was seeded a moment ago: every resource changed within the margin.
	for _, want := range []string{
		"building the new index " + next + " beside the live index resources",
		fmt.Sprintf("indexed %d documents; caught up with %d resources changed since ", published, published+removed),
		"swapped: resources now serves the new index",
		fmt.Sprintf("re-delivered through the outbox: %d documents and %d removals", published, removed),
		"deleted the old index",
		fmt.Sprintf("search index rebuilt without downtime: %d documents indexed", published),
	} {
		if next == "" || !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	requests, bodies := meili.take()
	want := []string{
		"POST /indexes", "PATCH /indexes/resources/settings", // the live index, ensured on start
		"POST /indexes", "PATCH /indexes/" + next + "/settings",
		"POST /indexes/" + next + "/documents", // the build
		"POST /indexes/" + next + "/documents", // catching up
	}
	if removed > 0 {
		want = append(want, "POST /indexes/"+next+"/documents/delete-batch")
	}
	want = append(want, "POST /swap-indexes", "DELETE /indexes/"+next)
	if !slices.Equal(requests, want) {
		t.Errorf("requests:\n got %v\nwant %v", requests, want)
	}
	if docs := bodies["POST /indexes/"+next+"/documents"]; len(docs) != 2 || countDocs(t, docs[0]) != published {
		t.Errorf("documents sent to the new index: %d requests", len(docs))
	}
	if got := count("SELECT COUNT(*) FROM catalog_outbox"); got != queued+published+removed {
		t.Errorf("outbox holds %d changes, want %d before the reindex + %d re-delivered", got, queued, published+removed)
	}

	out, err = runCLI(t, env, "reindex", "--in-place")
	if err != nil || !strings.Contains(out, fmt.Sprintf("search index rebuilt: %d documents indexed, 0 stale ones removed", published)) {
		t.Fatalf("reindex --in-place: %v\n%s", err, out)
	}
	requests, _ = meili.take()
	for _, r := range requests {
		if strings.Contains(r, "resources_") || r == "POST /swap-indexes" {
			t.Errorf("--in-place touched another index: %v", requests)
			break
		}
	}
	if !slices.Contains(requests, "POST /indexes/resources/documents") || !slices.Contains(requests, "POST /indexes/resources/documents/fetch") {
		t.Errorf("--in-place requests %v: want the documents and the list of IDs of the live index", requests)
	}

	if _, err := runCLI(t, env, "reindex", "--margin", "-1m"); err == nil || exitCode(err) != 2 {
		t.Errorf("negative margin: %v", err)
	}
}
