package web_test

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"ziyuan/catalog"
)

type searchResult struct {
	Total int `json:"total"`
	Hits  []struct {
		ID        string `json:"id"`
		Title     string `json:"title"`
		Stage     string `json:"stage"`
		PriceFen  int64  `json:"price_fen"`
		Highlight struct {
			Title   string `json:"title"`
			Summary string `json:"summary"`
		} `json:"highlight"`
	} `json:"hits"`
	Facets map[string]map[string]int `json:"facets"`
}

// searchFor polls the search API until cond holds or two seconds pass (API.md: a change is
// searchable within 2 s of its commit).
func (e *env) searchFor(t *testing.T, query string, cond func(searchResult) bool) (searchResult, time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		var r searchResult
		decode(t, e.do(t, "GET", "/api/v1/search?"+query, "", nil), 200, &r)
		if cond(r) {
			return r, time.Since(start)
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("search %q did not reach the expected state within 2 s: %+v", query, r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSearchFollowsPublishingAndTakedown(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		meta := sampleMeta("光合作用<script>alert(1)</script>探究课")
		meta.Stage, meta.Grade, meta.Subject = "初中", "七年级", "生物学"
		meta.Summary = "通过实验理解光合作用的原料和产物。"
		id := e.publishAs(t, "li.teacher", meta)
		hit := func(r searchResult) bool { return r.Total == 1 && r.Hits[0].ID == id }
		r, took := e.searchFor(t, "q="+url.QueryEscape("光合"), hit)
		t.Logf("searchable %v after approval", took)
		h := r.Hits[0].Highlight.Title
		if !strings.Contains(h, "<mark>光合</mark>") || strings.Contains(h, "<script>") || !strings.Contains(h, "&lt;script&gt;") {
			t.Fatalf("highlight %q: matches must be marked and everything else escaped", h)
		}
		if r.Facets["stage"]["初中"] != 1 || r.Facets["price"]["free"] != 1 {
			t.Fatalf("facets %v", r.Facets)
		}
		e.searchFor(t, "q="+url.QueryEscape("光合")+"&stage="+url.QueryEscape("小学"), func(r searchResult) bool { return r.Total == 0 })

		// Drafts are never found.
		e.draftAs(t, "chen.teacher", sampleMeta("光合作用草稿"))
		// A takedown removes it from search.
		c, err := e.m.FileComplaint(e.As(t, "chen.teacher"), id, "这是我的作品的抄袭", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.m.DecideComplaint(e.As(t, "admin"), c.ID, "uphold", "成立"); err != nil {
			t.Fatal(err)
		}
		e.searchFor(t, "q="+url.QueryEscape("光合"), func(r searchResult) bool { return r.Total == 0 })
	})
}

func TestSearchParameters(t *testing.T) {
	e := newEnv(t, openDB(t))
	cases := []struct {
		query    string
		status   int
		mentions string
	}{
		{"stage=大学", 400, "stage"},
		{"sort=cheapest", 400, "price_asc"},
		{"per_page=1000", 400, "per_page"},
		{"page=0", 400, "page"},
		{"price=maybe", 400, "price"},
		{"price_min=abc", 400, "price_min"},
		{"q=" + strings.Repeat("长", 300), 400, "q"},
	}
	for _, c := range cases {
		res := e.do(t, "GET", "/api/v1/search?"+url.PathEscape(c.query), "", nil)
		got := wantError(t, res, c.status, "invalid")
		if !strings.Contains(got.Error.Message, c.mentions) {
			t.Errorf("%s: message %q does not mention %q", c.query, got.Error.Message, c.mentions)
		}
	}
}

func TestSearchPage(t *testing.T) {
	e := newEnv(t, openDB(t))
	for i, stage := range []string{"初中", "初中", "高中"} {
		meta := sampleMeta(fmt.Sprintf("勾股定理练习%d", i))
		meta.Type, meta.Stage = "练习", stage
		meta.Grade = map[string]string{"初中": "八年级", "高中": "高一"}[stage]
		e.publishAs(t, "li.teacher", meta)
	}
	e.searchFor(t, "q="+url.QueryEscape("勾股"), func(r searchResult) bool { return r.Total == 3 })
	b := e.browser()
	res, page := b.do(t, "GET", "/search?q="+url.QueryEscape("勾股"), nil)
	if res.StatusCode != 200 || !strings.Contains(page, "<mark>勾股</mark>") || !strings.Contains(page, `stage=%E5%88%9D%E4%B8%AD`) ||
		!strings.Contains(page, `<span class="count">2</span>`) {
		t.Fatalf("search page: %d", res.StatusCode)
	}
	// An empty result suggests removing the filters.
	res, page = b.do(t, "GET", "/search?q="+url.QueryEscape("勾股")+"&stage="+url.QueryEscape("小学"), nil)
	if res.StatusCode != 200 || !strings.Contains(page, "没有找到符合条件的资源") || !strings.Contains(page, "去掉“小学”") {
		t.Fatalf("empty state: %d", res.StatusCode)
	}
	// A bad parameter is explained on the page, not a 500.
	res, page = b.do(t, "GET", "/search?sort=cheapest", nil)
	if res.StatusCode != 400 || !strings.Contains(page, "price_asc") {
		t.Fatalf("bad sort on the page: %d", res.StatusCode)
	}
	// The home page has the search box.
	_, home := b.do(t, "GET", "/", nil)
	if !strings.Contains(home, `action="/search"`) {
		t.Fatal("no search box on the home page")
	}
}

// FuzzSearchParameters: whatever the parameters, the search API answers 200 or 400, never 500.
// Values are URL-encoded as any HTTP client would send them.
func FuzzSearchParameters(f *testing.F) {
	for _, s := range [][2]string{{"q", "光合"}, {"stage", "初中"}, {"sort", "price_desc"}, {"price_min", "-1"}, {"q", "\x00"},
		{"facets", "none"}, {"page", "999999999"}, {"per_page", "0"}, {"grade", "七年级"}, {"highlight", "maybe"}} {
		f.Add(s[0], s[1], "q", "勾股 定理")
	}
	e := newEnv(f, openDB(f))
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		q := url.Values{}
		q.Add(k1, v1)
		q.Add(k2, v2)
		res := e.do(t, "GET", "/api/v1/search?"+q.Encode(), "", nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 && res.StatusCode != 400 && res.StatusCode != 431 {
			t.Fatalf("%q: %d %s", q.Encode(), res.StatusCode, body)
		}
	})
}

// downEngine is a search engine that cannot be reached, as Meilisearch during an outage: a
// fault the embedded engine cannot produce.
type downEngine struct{ catalog.Engine }

func (downEngine) Search(context.Context, catalog.Query) (catalog.Result, error) {
	return catalog.Result{}, fmt.Errorf("dial tcp 127.0.0.1:7700: connection refused: %w", catalog.ErrUnavailable)
}

// While the search engine is down, search answers 503 with Retry-After (API and page), never
// 500, and publishing goes on: the change waits in the outbox.
func TestSearchWhileEngineIsDown(t *testing.T) {
	e := newEnv(t, openDB(t))
	e.srv = newServer(e, downEngine{})
	res := e.do(t, "GET", "/api/v1/search?q="+url.QueryEscape("光合"), "", nil)
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	decode(t, res, 503, &body)
	if res.Header.Get("Retry-After") == "" || body.Error.Code != "unavailable" || !strings.Contains(body.Error.Message, "搜索") {
		t.Errorf("API: Retry-After %q, error %+v", res.Header.Get("Retry-After"), body.Error)
	}
	page := e.do(t, "GET", "/search?q="+url.QueryEscape("光合"), "", nil, "Accept", "text/html")
	html, _ := io.ReadAll(page.Body)
	if page.StatusCode != 503 || page.Header.Get("Retry-After") == "" || !strings.Contains(string(html), "搜索服务暂时不可用") {
		t.Errorf("page: status %d, Retry-After %q, body mentions the outage: %v", page.StatusCode, page.Header.Get("Retry-After"),
			strings.Contains(string(html), "搜索服务暂时不可用"))
	}
	// The instance stays in its load balancer's rotation: only search is degraded.
	ready := e.do(t, "GET", "/readyz", "", nil)
	text, _ := io.ReadAll(ready.Body)
	if ready.StatusCode != 200 || !strings.Contains(string(text), "search: unavailable") {
		t.Errorf("/readyz while search is down = %d %q, want 200 reporting search unavailable", ready.StatusCode, text)
	}
	// Writes do not depend on search (publishAs fails the test otherwise); the outbox keeps
	// the change until the engine is back (catalog's TestOutboxRetriesWithBackoffWhileEngineIsDown).
	e.publishAs(t, "li.teacher", sampleMeta("停机期间发布的资源"))
}
