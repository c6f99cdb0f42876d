package meili_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ziyuan/catalog"
	"ziyuan/catalog/catalogtest"
	"ziyuan/catalog/meili"
)

// fakeMeili replays the fixtures in testdata and records every request the adapter makes.
type fakeMeili struct {
	t        *testing.T
	mu       sync.Mutex
	requests []recorded
	nextTask int
	tasks    map[int]string // uid → fixture body
	search   []byte
	status   int // when set, every request answers with this status
	// afterSwap, when set, runs once a swap request has been enqueued (with f.mu held).
	afterSwap func()
}

type recorded struct {
	Method, Path, Query string
	Body                []byte
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newFake(t *testing.T) (*fakeMeili, *meili.Engine) {
	f := &fakeMeili{t: t, tasks: map[int]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	e, err := meili.New(meili.Options{URL: srv.URL, APIKey: "test-key", PollInterval: time.Millisecond, DisableRetries: true})
	if err != nil {
		t.Fatal(err)
	}
	return f, e
}

// enqueue answers 202 with a task summary and remembers what GET /tasks/{uid} will say.
func (f *fakeMeili) enqueue(w http.ResponseWriter, typ, final string) {
	f.nextTask++
	uid := f.nextTask
	if final == "" {
		final = fmt.Sprintf(fixture(f.t, "task_succeeded.json"), uid, uid, typ)
	} else {
		final = fmt.Sprintf(final, uid, uid)
	}
	f.tasks[uid] = final
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	fmt.Fprintf(w, fixture(f.t, "task_enqueued.json"), uid, typ)
}

// failNext makes the next enqueued task of the given kind ("METHOD path") end with this fixture.
var failNext = map[string]string{}

// refuseNext makes the next request of the given kind answer at once with this status and body
// (a synchronous refusal: nothing is enqueued).
var refuseNext = map[string]refusal{}

type refusal struct {
	status int
	body   string
}

func (f *fakeMeili) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, recorded{r.Method, r.URL.Path, r.URL.RawQuery, body})
	if got := r.Header.Get("Authorization"); got != "Bearer test-key" {
		f.t.Errorf("%s %s: Authorization %q", r.Method, r.URL.Path, got)
	}
	if f.status != 0 {
		w.WriteHeader(f.status)
		fmt.Fprint(w, `{"message":"down","code":"internal","type":"internal","link":""}`)
		return
	}
	key := r.Method + " " + r.URL.Path
	if ref, ok := refuseNext[key]; ok {
		delete(refuseNext, key)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(ref.status)
		fmt.Fprint(w, ref.body)
		return
	}
	fail := failNext[key]
	delete(failNext, key)
	// Routes name an index: /indexes/{uid}[/rest].
	uid, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/indexes/"), "/")
	indexRoute := strings.HasPrefix(r.URL.Path, "/indexes/")
	switch {
	case r.Method == "POST" && r.URL.Path == "/indexes":
		f.enqueue(w, "indexCreation", fail)
	case r.Method == "POST" && r.URL.Path == "/swap-indexes":
		f.enqueue(w, "indexSwap", fail)
		if f.afterSwap != nil {
			f.afterSwap()
		}
	case r.Method == "DELETE" && indexRoute && rest == "" && uid != "":
		f.enqueue(w, "indexDeletion", fail)
	case r.Method == "PATCH" && indexRoute && rest == "settings":
		f.enqueue(w, "settingsUpdate", fail)
	case r.Method == "POST" && indexRoute && rest == "documents":
		f.enqueue(w, "documentAdditionOrUpdate", fail)
	case r.Method == "POST" && indexRoute && rest == "documents/delete-batch":
		f.enqueue(w, "documentDeletion", fail)
	case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/tasks/"):
		var uid int
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/tasks/"), "%d", &uid)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, f.tasks[uid])
	case r.Method == "POST" && indexRoute && rest == "search":
		w.Header().Set("Content-Type", "application/json")
		w.Write(f.search)
	default:
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusNotFound)
	}
}

func (f *fakeMeili) last(method, path string) recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.requests) - 1; i >= 0; i-- {
		if f.requests[i].Method == method && f.requests[i].Path == path {
			return f.requests[i]
		}
	}
	f.t.Fatalf("no %s %s request", method, path)
	return recorded{}
}

func TestEnsureIndexSendsSettingsAndChecksTasks(t *testing.T) {
	f, e := newFake(t)
	ctx := context.Background()
	if err := e.EnsureIndex(ctx); err != nil {
		t.Fatal(err)
	}
	var create map[string]any
	json.Unmarshal(f.last("POST", "/indexes").Body, &create)
	if create["uid"] != "resources" || create["primaryKey"] != "id" {
		t.Errorf("create index body = %v", create)
	}
	var s struct {
		RankingRules         []string            `json:"rankingRules"`
		SearchableAttributes []string            `json:"searchableAttributes"`
		FilterableAttributes []string            `json:"filterableAttributes"`
		SortableAttributes   []string            `json:"sortableAttributes"`
		Synonyms             map[string][]string `json:"synonyms"`
		LocalizedAttributes  []struct {
			Locales           []string `json:"locales"`
			AttributePatterns []string `json:"attributePatterns"`
		} `json:"localizedAttributes"`
		Pagination struct {
			MaxTotalHits int64 `json:"maxTotalHits"`
		} `json:"pagination"`
		Faceting struct {
			MaxValuesPerFacet int64 `json:"maxValuesPerFacet"`
		} `json:"faceting"`
	}
	if err := json.Unmarshal(f.last("PATCH", "/indexes/resources/settings").Body, &s); err != nil {
		t.Fatal(err)
	}
	if s.RankingRules[0] != "sort" || s.RankingRules[len(s.RankingRules)-1] != "id:asc" {
		t.Errorf("ranking rules = %v, want sort first and id:asc last", s.RankingRules)
	}
	for _, a := range []string{"stage", "grade", "subject", "edition", "type", "license", "price_class", "price_fen"} {
		if !slices.Contains(s.FilterableAttributes, a) {
			t.Errorf("filterable attributes %v lack %s", s.FilterableAttributes, a)
		}
	}
	for _, a := range []string{"published_ts", "downloads", "rating", "price_fen", "id"} {
		if !slices.Contains(s.SortableAttributes, a) {
			t.Errorf("sortable attributes %v lack %s", s.SortableAttributes, a)
		}
	}
	if len(s.LocalizedAttributes) != 1 || !slices.Equal(s.LocalizedAttributes[0].Locales, []string{"cmn"}) ||
		!slices.Contains(s.LocalizedAttributes[0].AttributePatterns, "title") {
		t.Errorf("localized attributes = %+v", s.LocalizedAttributes)
	}
	for variant, canonical := range map[string]string{"ppt": "课件", "卷子": "试卷", "视频": "微课", "教学设计": "教案", "图象": "图像"} {
		if !slices.Contains(s.Synonyms[variant], canonical) {
			t.Errorf("synonyms[%s] = %v, want %s", variant, s.Synonyms[variant], canonical)
		}
	}
	if s.Pagination.MaxTotalHits != 1_000_000 || s.Faceting.MaxValuesPerFacet != 1000 {
		t.Errorf("pagination/faceting = %+v %+v", s.Pagination, s.Faceting)
	}

	// a second start: the index exists, Meilisearch fails the creation task, which is fine
	failNext["POST /indexes"] = fixture(t, "task_failed_index_exists.json")
	if err := e.EnsureIndex(ctx); err != nil {
		t.Errorf("EnsureIndex on an existing index: %v", err)
	}
}

func TestWaitReportsFailedTasks(t *testing.T) {
	f, e := newFake(t)
	ctx := context.Background()
	docs := catalogtest.Fixtures()[:2]
	if err := e.Upsert(ctx, docs...); err != nil {
		t.Fatal(err)
	}
	if err := e.Wait(ctx); err != nil {
		t.Fatalf("Wait after a succeeded task: %v", err)
	}
	rec := f.last("POST", "/indexes/resources/documents")
	if rec.Query != "primaryKey=id" {
		t.Errorf("add documents query = %q", rec.Query)
	}
	var sent []map[string]any
	if err := json.Unmarshal(rec.Body, &sent); err != nil || len(sent) != 2 {
		t.Fatalf("documents body %s: %v", rec.Body, err)
	}
	if sent[0]["id"] != "d01" || sent[0]["price_class"] != "free" || sent[0]["published_ts"] != float64(docs[0].PublishedAt.Unix()) ||
		!strings.Contains(sent[0]["meta"].(string), "七年级") {
		t.Errorf("document sent = %v", sent[0])
	}
	// WaitForTask does not report a failed task as an error: Wait must
	failNext["POST /indexes/resources/documents"] = fixture(t, "task_failed_document.json")
	if err := e.Upsert(ctx, docs[0]); err != nil {
		t.Fatal(err)
	}
	err := e.Wait(ctx)
	if err == nil || !strings.Contains(err.Error(), "invalid_document_id") {
		t.Errorf("Wait after a failed task = %v, want the task's error", err)
	}
	if errors.Is(err, catalog.ErrUnavailable) {
		t.Errorf("a failed task is not unavailability: %v", err)
	}
	if err := e.Delete(ctx, "d01", "d02"); err != nil {
		t.Fatal(err)
	}
	if err := e.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	var ids []string
	json.Unmarshal(f.last("POST", "/indexes/resources/documents/delete-batch").Body, &ids)
	if !slices.Equal(ids, []string{"d01", "d02"}) {
		t.Errorf("delete body = %v", ids)
	}
}

func TestSearchRequestAndDecoding(t *testing.T) {
	f, e := newFake(t)
	f.search = []byte(fixture(t, "search_response.json"))
	lo := int64(0)
	res, err := e.Search(context.Background(), catalog.Query{Text: "光合作用", Highlight: true, Facets: catalog.Facets(),
		Filters: catalog.Filters{Stage: "初中", Price: catalog.PriceFree, MinPriceFen: &lo, Edition: `人教"版`},
		Sort:    catalog.SortNewest, Page: 1, PerPage: 20})
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		Q                string   `json:"q"`
		Page             int      `json:"page"`
		HitsPerPage      int      `json:"hitsPerPage"`
		Filter           string   `json:"filter"`
		Sort             []string `json:"sort"`
		Facets           []string `json:"facets"`
		Highlight        []string `json:"attributesToHighlight"`
		Pre              string   `json:"highlightPreTag"`
		Post             string   `json:"highlightPostTag"`
		MatchingStrategy string   `json:"matchingStrategy"`
		Locales          []string `json:"locales"`
		Offset           *int     `json:"offset"`
	}
	if err := json.Unmarshal(f.last("POST", "/indexes/resources/search").Body, &req); err != nil {
		t.Fatal(err)
	}
	if req.Q != "光合作用" || req.Page != 1 || req.HitsPerPage != 20 || req.Offset != nil {
		t.Errorf("paging request = %+v (page/hitsPerPage give exact totals; no offset)", req)
	}
	if want := `stage = "初中" AND edition = "人教\"版" AND price_class = "free" AND price_fen >= 0`; req.Filter != want {
		t.Errorf("filter = %s, want %s", req.Filter, want)
	}
	if !slices.Equal(req.Sort, []string{"published_ts:desc", "id:asc"}) {
		t.Errorf("sort = %v", req.Sort)
	}
	if !slices.Equal(req.Facets, []string{"stage", "grade", "subject", "edition", "type", "license", "price_class"}) {
		t.Errorf("facets = %v", req.Facets)
	}
	if req.Pre != catalog.TagOpen || req.Post != catalog.TagClose || !slices.Equal(req.Highlight, []string{"title", "summary"}) {
		t.Errorf("highlight request = %+v", req)
	}
	if req.MatchingStrategy != "last" || !slices.Equal(req.Locales, []string{"cmn"}) {
		t.Errorf("strategy/locales = %s %v", req.MatchingStrategy, req.Locales)
	}

	if res.Total != 2 || len(res.Hits) != 2 || res.Hits[0].ID != "d09" || res.Hits[1].ID != "d01" {
		t.Fatalf("result = %+v", res)
	}
	h := res.Hits[0]
	if string(h.Highlight.Title) != `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; <mark>光合作用</mark>趣味实验` {
		t.Errorf("title highlight = %s", h.Highlight.Title)
	}
	if string(h.Highlight.Summary) != `用 &lt;b&gt;水草&lt;/b&gt; &amp; 试管观察气泡` {
		t.Errorf("summary highlight = %s", h.Highlight.Summary)
	}
	if h.Document.Title != `<script>alert("x")</script> 光合作用趣味实验` || h.Document.License != "cc-by-nd" ||
		!h.Document.PublishedAt.Equal(time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)) || h.Score <= 0 {
		t.Errorf("hit document = %+v score %v", h.Document, h.Score)
	}
	if d := res.Hits[1].Document; d.Author != "王老师" || d.Rating != 4.5 || d.Downloads != 120 {
		t.Errorf("second hit = %+v", d)
	}
	if res.Facets[catalog.FacetType]["课件"] != 1 || res.Facets[catalog.FacetPrice]["free"] != 2 || len(res.Facets[catalog.FacetSubject]) != 0 {
		t.Errorf("facets = %v", res.Facets)
	}
}

func TestRelevanceWithoutTextSortsByNewest(t *testing.T) {
	_, e := newFake(t)
	q, _ := catalog.Query{}.Normalized()
	if got := e.SearchRequest(q).Sort; !slices.Equal(got, []string{"published_ts:desc", "id:asc"}) {
		t.Errorf("no text, relevance: sort = %v", got)
	}
	q, _ = catalog.Query{Text: "光合"}.Normalized()
	if got := e.SearchRequest(q).Sort; got != nil {
		t.Errorf("text, relevance: sort = %v, want none (ranking rules end with id:asc)", got)
	}
}

func TestServerErrorsAreUnavailable(t *testing.T) {
	f, e := newFake(t)
	f.status = http.StatusServiceUnavailable
	if _, err := e.Search(context.Background(), catalog.Query{Text: "光合"}); !errors.Is(err, catalog.ErrUnavailable) {
		t.Errorf("503: err = %v, want ErrUnavailable", err)
	}
	down, err := meili.New(meili.Options{URL: "http://127.0.0.1:1", PollInterval: time.Millisecond, DisableRetries: true})
	if err != nil {
		t.Fatal(err)
	}
	catalogtest.Unavailable(t, down)
	// a bad request is not unavailability
	f.status = http.StatusBadRequest
	if _, err := e.Search(context.Background(), catalog.Query{Text: "光合"}); err == nil || errors.Is(err, catalog.ErrUnavailable) {
		t.Errorf("400: err = %v, want a plain error", err)
	}
}

func TestTransportFailuresAreUnavailable(t *testing.T) {
	ctx := context.Background()
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout, http.StatusTooManyRequests} {
		f, e := newFake(t)
		f.status = status
		if _, err := e.Search(ctx, catalog.Query{Text: "光合"}); !errors.Is(err, catalog.ErrUnavailable) {
			t.Errorf("search answered %d: err = %v, want ErrUnavailable", status, err)
		}
		if err := e.Upsert(ctx, catalogtest.Fixtures()[0]); !errors.Is(err, catalog.ErrUnavailable) {
			t.Errorf("upsert answered %d: err = %v, want ErrUnavailable", status, err)
		}
	}

	// A server that accepts connections but answers too late: the HTTP client's timeout, and the
	// caller's deadline (web gives a search 10 s, the worker a batch half its lease).
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(500 * time.Millisecond):
		}
	}))
	t.Cleanup(slow.Close)
	clientTimeout, err := meili.New(meili.Options{URL: slow.URL, DisableRetries: true, HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clientTimeout.Search(ctx, catalog.Query{Text: "光合"}); !errors.Is(err, catalog.ErrUnavailable) {
		t.Errorf("client timeout: err = %v, want ErrUnavailable", err)
	}
	deadline, err := meili.New(meili.Options{URL: slow.URL, DisableRetries: true})
	if err != nil {
		t.Fatal(err)
	}
	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := deadline.Delete(dctx, "d01"); !errors.Is(err, catalog.ErrUnavailable) {
		t.Errorf("caller's deadline: err = %v, want ErrUnavailable", err)
	}

	// A connection dropped without an answer (a crashing server, a proxy reset).
	reset := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(reset.Close)
	dropped, err := meili.New(meili.Options{URL: reset.URL, DisableRetries: true})
	if err != nil {
		t.Fatal(err)
	}
	catalogtest.Unavailable(t, dropped)
}

// The worker's batch waits for its tasks; an outage while it waits must neither lose the tasks
// nor count as their failure.
func TestWaitDuringAnOutageKeepsTheTasks(t *testing.T) {
	f, e := newFake(t)
	ctx := context.Background()
	if err := e.Upsert(ctx, catalogtest.Fixtures()[0]); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.status = http.StatusServiceUnavailable
	f.mu.Unlock()
	if err := e.Wait(ctx); !errors.Is(err, catalog.ErrUnavailable) {
		t.Fatalf("Wait while down: %v, want ErrUnavailable", err)
	}
	f.mu.Lock()
	f.status = 0
	f.tasks[1] = fmt.Sprintf(fixture(t, "task_failed_document.json"), 1, 1)
	f.mu.Unlock()
	// The task is waited for again once the server answers, and its real outcome reported.
	if err := e.Wait(ctx); err == nil || !strings.Contains(err.Error(), "invalid_document_id") {
		t.Errorf("Wait after the outage = %v, want the task's failure", err)
	}
}

// With meilisearch-go's retries on (as serve runs it), a server answering 503 is retried three
// times, 1 s, 2 s and 3 s apart, before the error; that error carries no status code.
func TestRetriedServerErrorsAreUnavailable(t *testing.T) {
	t.Parallel()
	f := &fakeMeili{t: t, tasks: map[int]string{}, status: http.StatusServiceUnavailable}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	e, err := meili.New(meili.Options{URL: srv.URL, APIKey: "test-key"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := e.Search(context.Background(), catalog.Query{Text: "光合"}); !errors.Is(err, catalog.ErrUnavailable) {
		t.Errorf("search after the retries: err = %v, want ErrUnavailable", err)
	}
	f.mu.Lock()
	n := len(f.requests)
	f.mu.Unlock()
	if n != 4 {
		t.Errorf("%d requests, want 1 + 3 retries", n)
	}
	t.Logf("503 answered as unavailable after %s", time.Since(start).Round(time.Millisecond))
}
