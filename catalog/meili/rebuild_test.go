package meili_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"ziyuan/catalog"
	"ziyuan/catalog/catalogtest"
	"ziyuan/catalog/meili"
)

const nextUID = "resources_20260901_080000"

// writes lists the requests other than task polls, as "METHOD path".
func (f *fakeMeili) writes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if r.Method == "GET" && strings.HasPrefix(r.Path, "/tasks/") {
			continue
		}
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// polled checks that every task enqueued after the first `from` was looked up at least once.
func (f *fakeMeili) polled(t *testing.T, from int) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[string]bool{}
	for _, r := range f.requests {
		if r.Method == "GET" && strings.HasPrefix(r.Path, "/tasks/") {
			seen[strings.TrimPrefix(r.Path, "/tasks/")] = true
		}
	}
	for uid := from + 1; uid <= f.nextTask; uid++ {
		if !seen[strconv.Itoa(uid)] {
			t.Errorf("task %d was never waited for", uid)
		}
	}
}

func fill(docs []catalog.Document) func(context.Context, catalog.Engine) error {
	return func(ctx context.Context, next catalog.Engine) error {
		_, err := catalog.Reindex(ctx, catalog.Source{Total: len(docs), Docs: func(yield func(catalog.Document, error) bool) {
			for _, d := range docs {
				if !yield(d, nil) {
					return
				}
			}
		}}, next, nil)
		return err
	}
}

func resetFailures() {
	clear(failNext)
	clear(refuseNext)
}

func TestRebuildBuildsBesideTheLiveIndexThenSwapsAndDeletesTheOld(t *testing.T) {
	resetFailures()
	f, e := newFake(t)
	ctx := context.Background()
	if err := e.EnsureIndex(ctx); err != nil {
		t.Fatal(err)
	}
	liveSettings := f.last("PATCH", "/indexes/resources/settings").Body
	f.mu.Lock()
	f.requests = nil
	before := f.nextTask
	f.mu.Unlock()

	var swappedAfter []string
	err := e.Rebuild(ctx, nextUID, meili.RebuildSteps{
		Fill: fill(catalogtest.Fixtures()[:3]),
		Swapped: func(ctx context.Context) error {
			swappedAfter = f.writes()
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"POST /indexes",
		"PATCH /indexes/" + nextUID + "/settings",
		"POST /indexes/" + nextUID + "/documents",
		"POST /swap-indexes",
		"DELETE /indexes/" + nextUID,
	}
	if got := f.writes(); !slices.Equal(got, want) {
		t.Fatalf("requests:\n got %v\nwant %v", got, want)
	}
	if !slices.Equal(swappedAfter, want[:4]) {
		t.Errorf("Swapped ran after %v, want right after the swap and before the delete", swappedAfter)
	}
	f.polled(t, before)

	var create map[string]any
	json.Unmarshal(f.last("POST", "/indexes").Body, &create)
	if create["uid"] != nextUID || create["primaryKey"] != "id" {
		t.Errorf("create index body = %v", create)
	}
	var a, b any
	json.Unmarshal(liveSettings, &a)
	json.Unmarshal(f.last("PATCH", "/indexes/"+nextUID+"/settings").Body, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("the new index got other settings than the live one:\n%s\n%s", liveSettings, f.last("PATCH", "/indexes/"+nextUID+"/settings").Body)
	}
	var sent []map[string]any
	json.Unmarshal(f.last("POST", "/indexes/"+nextUID+"/documents").Body, &sent)
	if len(sent) != 3 || sent[0]["id"] != "d01" {
		t.Errorf("documents sent to the new index: %d, first %v", len(sent), sent)
	}
	var swap []struct {
		Indexes []string `json:"indexes"`
		Rename  *bool    `json:"rename"`
	}
	if err := json.Unmarshal(f.last("POST", "/swap-indexes").Body, &swap); err != nil {
		t.Fatal(err)
	}
	if len(swap) != 1 || !slices.Equal(swap[0].Indexes, []string{"resources", nextUID}) || (swap[0].Rename != nil && *swap[0].Rename) {
		t.Errorf("swap body = %s, want one pair (live, new) and no rename", f.last("POST", "/swap-indexes").Body)
	}
	// Searches and the workers keep addressing the live UID, which now holds the new data.
	f.search = []byte(fixture(t, "search_response.json"))
	if _, err := e.Search(ctx, catalog.Query{Text: "光合"}); err != nil {
		t.Fatal(err)
	}
	f.last("POST", "/indexes/resources/search")
}

func TestRebuildFailuresLeaveTheLiveIndexAndRemoveTheNewOne(t *testing.T) {
	build := []string{"POST /indexes", "PATCH /indexes/" + nextUID + "/settings"}
	deleteNext := "DELETE /indexes/" + nextUID
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, f *fakeMeili)
		fill    func(context.Context, catalog.Engine) error
		want    []string // requests other than task polls
		errHas  []string
		// unavailable: the error must wrap catalog.ErrUnavailable
		unavailable bool
	}{{
		name: "fill fails",
		fill: func(context.Context, catalog.Engine) error { return errors.New("database gone") },
		want: append(slices.Clone(build), deleteNext), errHas: []string{"database gone", "live index resources is unchanged"},
	}, {
		name: "a document task fails",
		prepare: func(t *testing.T, f *fakeMeili) {
			failNext["POST /indexes/"+nextUID+"/documents"] = fixture(t, "task_failed_document.json")
		},
		want:   append(slices.Clone(build), "POST /indexes/"+nextUID+"/documents", deleteNext),
		errHas: []string{"invalid_document_id", "unchanged"},
	}, {
		name: "the swap task fails",
		prepare: func(t *testing.T, f *fakeMeili) {
			failNext["POST /swap-indexes"] = fixture(t, "task_failed_swap.json")
		},
		want:   append(slices.Clone(build), "POST /indexes/"+nextUID+"/documents", "POST /swap-indexes", deleteNext),
		errHas: []string{"index_not_found", "Index `resources` not found", "unchanged"},
	}, {
		name: "the swap request is refused (a server before v1.18)",
		prepare: func(t *testing.T, f *fakeMeili) {
			refuseNext["POST /swap-indexes"] = refusal{http.StatusBadRequest, fixture(t, "swap_refused_rename.json")}
		},
		want:   append(slices.Clone(build), "POST /indexes/"+nextUID+"/documents", "POST /swap-indexes", deleteNext),
		errHas: []string{"bad_request", "v1.18", "unchanged"},
	}, {
		name: "the new index's UID is taken",
		prepare: func(t *testing.T, f *fakeMeili) {
			failNext["POST /indexes"] = fixture(t, "task_failed_index_exists.json")
		},
		// Not deleted: it may be another rebuild's index.
		want: []string{"POST /indexes"}, errHas: []string{"index_already_exists", "another rebuild"},
	}, {
		name: "Meilisearch stops answering once the swap is enqueued",
		prepare: func(t *testing.T, f *fakeMeili) {
			f.afterSwap = func() { f.status = http.StatusServiceUnavailable }
		},
		// Not deleted: the new index may be live.
		want:        append(slices.Clone(build), "POST /indexes/"+nextUID+"/documents", "POST /swap-indexes"),
		errHas:      []string{"unknown", "GET /tasks/"},
		unavailable: true,
	}, {
		name: "Meilisearch is down when the swap is asked for",
		prepare: func(t *testing.T, f *fakeMeili) {
			refuseNext["POST /swap-indexes"] = refusal{http.StatusServiceUnavailable, `{"message":"down","code":"internal","type":"internal","link":""}`}
		},
		want:        append(slices.Clone(build), "POST /indexes/"+nextUID+"/documents", "POST /swap-indexes"),
		errHas:      []string{"unknown", "indexSwap"},
		unavailable: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			resetFailures()
			defer resetFailures()
			f, e := newFake(t)
			if tc.prepare != nil {
				tc.prepare(t, f)
			}
			if tc.fill == nil {
				tc.fill = fill(catalogtest.Fixtures()[:2])
			}
			swapped := false
			err := e.Rebuild(context.Background(), nextUID, meili.RebuildSteps{Fill: tc.fill,
				Swapped: func(context.Context) error { swapped = true; return nil }})
			if err == nil {
				t.Fatal("Rebuild succeeded")
			}
			t.Logf("error: %v", err)
			for _, s := range tc.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if errors.Is(err, catalog.ErrUnavailable) != tc.unavailable {
				t.Errorf("errors.Is(err, ErrUnavailable) = %v, want %v: %v", !tc.unavailable, tc.unavailable, err)
			}
			if got := f.writes(); !slices.Equal(got, tc.want) {
				t.Errorf("requests:\n got %v\nwant %v", got, tc.want)
			}
			if swapped {
				t.Error("Swapped ran although the swap did not happen")
			}
			for _, r := range f.writes() {
				if strings.HasPrefix(r, "POST /indexes/resources/") || strings.HasPrefix(r, "PATCH /indexes/resources/") ||
					r == "DELETE /indexes/resources" {
					t.Errorf("the live index was written to: %s", r)
				}
			}
		})
	}
}

func TestRebuildCleansUpAfterCancellation(t *testing.T) {
	resetFailures()
	f, e := newFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	err := e.Rebuild(ctx, nextUID, meili.RebuildSteps{Fill: func(ctx context.Context, next catalog.Engine) error {
		cancel() // Ctrl+C while the documents are sent
		return fill(catalogtest.Fixtures()[:2])(ctx, next)
	}})
	if err == nil {
		t.Fatal("Rebuild succeeded after cancellation")
	}
	writes := f.writes()
	if writes[len(writes)-1] != "DELETE /indexes/"+nextUID || slices.Contains(writes, "POST /swap-indexes") {
		t.Errorf("requests after cancellation: %v, want the new index deleted and no swap", writes)
	}
}

func TestRebuildAfterTheSwap(t *testing.T) {
	t.Run("re-delivery fails: the old index is still deleted and the error says the new one is live", func(t *testing.T) {
		resetFailures()
		f, e := newFake(t)
		err := e.Rebuild(context.Background(), nextUID, meili.RebuildSteps{Fill: fill(catalogtest.Fixtures()[:1]),
			Swapped: func(context.Context) error { return errors.New("outbox unreachable") }})
		if err == nil || !strings.Contains(err.Error(), "outbox unreachable") || !strings.Contains(err.Error(), "new index is live") {
			t.Errorf("err = %v", err)
		}
		if w := f.writes(); w[len(w)-1] != "DELETE /indexes/"+nextUID {
			t.Errorf("requests %v: the old index was not deleted", w)
		}
	})
	t.Run("deleting the old index fails: the error names it", func(t *testing.T) {
		resetFailures()
		defer resetFailures()
		f, e := newFake(t)
		failNext["DELETE /indexes/"+nextUID] = fixture(t, "task_failed_document.json")
		swapped := false
		err := e.Rebuild(context.Background(), nextUID, meili.RebuildSteps{Fill: fill(catalogtest.Fixtures()[:1]),
			Swapped: func(context.Context) error { swapped = true; return nil }})
		if err == nil || !strings.Contains(err.Error(), "left as "+nextUID) || !strings.Contains(err.Error(), "new index is live") {
			t.Errorf("err = %v", err)
		}
		if !swapped {
			t.Error("Swapped did not run after a successful swap")
		}
		if w := f.writes(); w[len(w)-1] != "DELETE /indexes/"+nextUID {
			t.Errorf("requests %v", w)
		}
	})
	t.Run("the new index needs its own UID", func(t *testing.T) {
		_, e := newFake(t)
		for _, uid := range []string{"", "resources"} {
			if err := e.Rebuild(context.Background(), uid, meili.RebuildSteps{Fill: fill(nil)}); err == nil {
				t.Errorf("Rebuild into %q succeeded", uid)
			}
		}
	})
}
