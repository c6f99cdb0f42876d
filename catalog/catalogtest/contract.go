// Package catalogtest holds the contract every catalog.Engine passes (RunContract), the
// documents it runs on, and the relevance evaluation (nDCG@10, Recall@10, MRR) over the golden
// set in catalog/testdata.
package catalogtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"ziyuan/catalog"
)

// RunContract runs the engine contract. newEngine returns a fresh, empty engine for one subtest
// (and registers its cleanup with t); the contract calls EnsureIndex itself.
func RunContract(t *testing.T, newEngine func(t *testing.T) catalog.Engine) {
	t.Helper()
	ctx := context.Background()
	fixtures := Fixtures()
	// most subtests only read: one loaded engine serves them
	var shared catalog.Engine
	loaded := func(t *testing.T) catalog.Engine {
		t.Helper()
		if shared == nil {
			shared = load(t, newEngine(t), fixtures)
		}
		return shared
	}
	t.Run("read", func(t *testing.T) {
		e := loaded(t)
		t.Run("Filters", func(t *testing.T) { testFilters(t, e, fixtures) })
		t.Run("Facets", func(t *testing.T) { testFacets(t, e, fixtures) })
		t.Run("Sorts", func(t *testing.T) { testSorts(t, e, fixtures) })
		t.Run("RelevanceTiebreak", func(t *testing.T) { testRelevanceTiebreak(t, e) })
		t.Run("Paging", func(t *testing.T) { testPaging(t, e, fixtures) })
		t.Run("Highlight", func(t *testing.T) { testHighlight(t, e) })
		t.Run("Text", func(t *testing.T) { testText(t, e) })
		t.Run("Synonyms", func(t *testing.T) { testSynonyms(t, e) })
		t.Run("Empty", func(t *testing.T) { testEmpty(t, e) })
		t.Run("Invalid", func(t *testing.T) { testInvalid(t, e) })
		t.Run("StoredFields", func(t *testing.T) { testStoredFields(t, e, fixtures) })
	})
	t.Run("UpsertReplaces", func(t *testing.T) {
		e := load(t, newEngine(t), fixtures)
		d := fixtures[0]
		d.Title, d.Summary, d.Body, d.Keywords = "细胞的呼吸作用", "有氧呼吸与无氧呼吸的比较。", "", nil
		d.Downloads = 7
		must(t, e.Upsert(ctx, d))
		must(t, e.Wait(ctx))
		if ids := searchIDs(t, e, catalog.Query{Text: "呼吸作用"}); !slices.Equal(ids, []string{"d01"}) {
			t.Errorf("after replacing d01, 呼吸作用 finds %v, want [d01]", ids)
		}
		if ids := searchIDs(t, e, catalog.Query{Text: "叶绿体"}); slices.Contains(ids, "d01") {
			t.Errorf("after replacing d01, its old text 叶绿体 still finds it: %v", ids)
		}
		r := search(t, e, catalog.Query{})
		if r.Total != len(fixtures) {
			t.Errorf("total after replacing = %d, want %d (no duplicate)", r.Total, len(fixtures))
		}
		r = search(t, e, catalog.Query{Sort: catalog.SortPopular, PerPage: 100})
		if got := hitByID(r, "d01"); got == nil || got.Document.Downloads != 7 {
			t.Errorf("stored downloads after replacing = %+v, want 7", got)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		e := load(t, newEngine(t), fixtures)
		must(t, e.Delete(ctx, "d05", "does-not-exist"))
		must(t, e.Wait(ctx))
		if ids := searchIDs(t, e, catalog.Query{Text: "勾股定理"}); len(ids) != 0 {
			t.Errorf("deleted d05 still found: %v", ids)
		}
		r := search(t, e, catalog.Query{Facets: []catalog.Facet{catalog.FacetType}})
		if r.Total != len(fixtures)-1 {
			t.Errorf("total after delete = %d, want %d", r.Total, len(fixtures)-1)
		}
		if want := countWhere(fixtures, func(d catalog.Document) bool { return d.Type == "课件" && d.ID != "d05" }); r.Facets[catalog.FacetType]["课件"] != want {
			t.Errorf("课件 facet after delete = %d, want %d", r.Facets[catalog.FacetType]["课件"], want)
		}
		must(t, e.Delete(ctx)) // nothing to delete
	})
	t.Run("EnsureIndexIsIdempotent", func(t *testing.T) {
		e := load(t, newEngine(t), fixtures[:3])
		must(t, e.EnsureIndex(ctx))
		if r := search(t, e, catalog.Query{}); r.Total != 3 {
			t.Errorf("total after a second EnsureIndex = %d, want 3", r.Total)
		}
	})
}

func load(t *testing.T, e catalog.Engine, docs []catalog.Document) catalog.Engine {
	t.Helper()
	ctx := context.Background()
	must(t, e.EnsureIndex(ctx))
	must(t, e.Upsert(ctx, docs...))
	must(t, e.Wait(ctx))
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func search(t *testing.T, e catalog.Engine, q catalog.Query) catalog.Result {
	t.Helper()
	r, err := e.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	return r
}

func searchIDs(t *testing.T, e catalog.Engine, q catalog.Query) []string {
	t.Helper()
	if q.PerPage == 0 {
		q.PerPage = catalog.MaxPerPage
	}
	r := search(t, e, q)
	ids := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		ids[i] = h.ID
	}
	if r.Total != len(ids) {
		t.Errorf("query %+v: total %d but %d hits on a page of %d", q, r.Total, len(ids), q.PerPage)
	}
	return ids
}

func hitByID(r catalog.Result, id string) *catalog.Hit {
	for i := range r.Hits {
		if r.Hits[i].ID == id {
			return &r.Hits[i]
		}
	}
	return nil
}

func countWhere(docs []catalog.Document, pred func(catalog.Document) bool) int {
	n := 0
	for _, d := range docs {
		if pred(d) {
			n++
		}
	}
	return n
}

func i64(v int64) *int64 { return &v }

type filterCase struct {
	name string
	f    catalog.Filters
	pred func(catalog.Document) bool
}

func filterCases() []filterCase {
	return []filterCase{
		{"stage", catalog.Filters{Stage: "初中"}, func(d catalog.Document) bool { return d.Stage == "初中" }},
		{"grade", catalog.Filters{Grade: "九年级"}, func(d catalog.Document) bool { return d.Grade == "九年级" }},
		{"subject", catalog.Filters{Subject: "数学"}, func(d catalog.Document) bool { return d.Subject == "数学" }},
		{"edition", catalog.Filters{Edition: "人教版"}, func(d catalog.Document) bool { return d.Edition == "人教版" }},
		{"edition PEP", catalog.Filters{Edition: "人教PEP版"}, func(d catalog.Document) bool { return d.Edition == "人教PEP版" }},
		{"volume", catalog.Filters{Volume: "下册"}, func(d catalog.Document) bool { return d.Volume == "下册" }},
		{"type", catalog.Filters{Type: "课件"}, func(d catalog.Document) bool { return d.Type == "课件" }},
		{"license", catalog.Filters{License: "cc-by-nc"}, func(d catalog.Document) bool { return d.License == "cc-by-nc" }},
		{"license cc-by is not a prefix match", catalog.Filters{License: "cc-by"}, func(d catalog.Document) bool { return d.License == "cc-by" }},
		{"free", catalog.Filters{Price: catalog.PriceFree}, func(d catalog.Document) bool { return d.PriceFen == 0 }},
		{"paid", catalog.Filters{Price: catalog.PricePaid}, func(d catalog.Document) bool { return d.PriceFen > 0 }},
		{"price range", catalog.Filters{MinPriceFen: i64(500), MaxPriceFen: i64(1200)}, func(d catalog.Document) bool { return d.PriceFen >= 500 && d.PriceFen <= 1200 }},
		{"price max", catalog.Filters{MaxPriceFen: i64(300)}, func(d catalog.Document) bool { return d.PriceFen <= 300 }},
		{"price min", catalog.Filters{MinPriceFen: i64(1000)}, func(d catalog.Document) bool { return d.PriceFen >= 1000 }},
		{"two filters", catalog.Filters{Stage: "初中", Subject: "数学"}, func(d catalog.Document) bool { return d.Stage == "初中" && d.Subject == "数学" }},
		{"three filters", catalog.Filters{Subject: "数学", Grade: "九年级", Price: catalog.PricePaid}, func(d catalog.Document) bool {
			return d.Subject == "数学" && d.Grade == "九年级" && d.PriceFen > 0
		}},
		{"no match", catalog.Filters{Stage: "本科"}, func(d catalog.Document) bool { return false }},
	}
}

func expectedIDs(docs []catalog.Document, pred func(catalog.Document) bool) []string {
	var ids []string
	for _, d := range docs {
		if pred(d) {
			ids = append(ids, d.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func testFilters(t *testing.T, e catalog.Engine, docs []catalog.Document) {
	for _, c := range filterCases() {
		t.Run(c.name, func(t *testing.T) {
			want := expectedIDs(docs, c.pred)
			got := searchIDs(t, e, catalog.Query{Filters: c.f})
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("filter %s: got %v, want %v", c.name, got, want)
			}
		})
	}
	t.Run("with text", func(t *testing.T) {
		got := searchIDs(t, e, catalog.Query{Text: "函数", Filters: catalog.Filters{Type: "教案"}})
		slices.Sort(got)
		if want := []string{"d02", "d04"}; !slices.Equal(got, want) {
			t.Errorf("函数 + type 教案: got %v, want %v", got, want)
		}
		got = searchIDs(t, e, catalog.Query{Text: "函数", Filters: catalog.Filters{Price: catalog.PriceFree, Grade: "九年级"}})
		if want := []string{"d03"}; !slices.Equal(got, want) {
			t.Errorf("函数 + free + 九年级: got %v, want %v", got, want)
		}
	})
}

func testFacets(t *testing.T, e catalog.Engine, docs []catalog.Document) {
	facetValue := map[catalog.Facet]func(catalog.Document) string{
		catalog.FacetStage:   func(d catalog.Document) string { return d.Stage },
		catalog.FacetGrade:   func(d catalog.Document) string { return d.Grade },
		catalog.FacetSubject: func(d catalog.Document) string { return d.Subject },
		catalog.FacetEdition: func(d catalog.Document) string { return d.Edition },
		catalog.FacetType:    func(d catalog.Document) string { return d.Type },
		catalog.FacetLicense: func(d catalog.Document) string { return d.License },
		catalog.FacetPrice:   func(d catalog.Document) string { return string(d.Price()) },
	}
	cases := append([]filterCase{{"all", catalog.Filters{}, func(catalog.Document) bool { return true }}}, filterCases()...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := search(t, e, catalog.Query{Filters: c.f, Facets: catalog.Facets(), PerPage: 1})
			if want := countWhere(docs, c.pred); r.Total != want {
				t.Errorf("total = %d, want %d", r.Total, want)
			}
			for _, f := range catalog.Facets() {
				want := map[string]int{}
				for _, d := range docs {
					if v := facetValue[f](d); c.pred(d) && v != "" {
						want[v]++
					}
				}
				got := r.Facets[f]
				if got == nil {
					got = map[string]int{}
				}
				if !mapsEqual(got, want) {
					t.Errorf("facet %s = %v, want %v", f, got, want)
				}
			}
		})
	}
	t.Run("with text", func(t *testing.T) {
		r := search(t, e, catalog.Query{Text: "函数", Facets: catalog.Facets()})
		want := map[string]int{"教案": 2, "课件": 1}
		if !mapsEqual(r.Facets[catalog.FacetType], want) {
			t.Errorf("函数: type facet = %v, want %v", r.Facets[catalog.FacetType], want)
		}
	})
	t.Run("only requested", func(t *testing.T) {
		r := search(t, e, catalog.Query{Facets: []catalog.Facet{catalog.FacetPrice}})
		if len(r.Facets) != 1 || r.Facets[catalog.FacetPrice]["free"] != countWhere(docs, func(d catalog.Document) bool { return d.PriceFen == 0 }) {
			t.Errorf("facets = %v, want only price", r.Facets)
		}
	})
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// SortedIDs orders docs as the sort s must (without text), ID ascending on ties.
func SortedIDs(docs []catalog.Document, s catalog.Sort) []string {
	docs = slices.Clone(docs)
	key := func(a, b catalog.Document) int {
		switch s {
		case catalog.SortPopular:
			return cmp.Compare(b.Downloads, a.Downloads)
		case catalog.SortRating:
			return cmp.Compare(b.Rating, a.Rating)
		case catalog.SortPriceAsc:
			return cmp.Compare(a.PriceFen, b.PriceFen)
		case catalog.SortPriceDesc:
			return cmp.Compare(b.PriceFen, a.PriceFen)
		default: // newest, and relevance without text
			return b.PublishedAt.Compare(a.PublishedAt)
		}
	}
	slices.SortFunc(docs, func(a, b catalog.Document) int {
		if c := key(a, b); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids
}

func testSorts(t *testing.T, e catalog.Engine, docs []catalog.Document) {
	for _, s := range catalog.Sorts() {
		t.Run(string(s), func(t *testing.T) {
			want := SortedIDs(docs, s)
			if got := searchIDs(t, e, catalog.Query{Sort: s}); !slices.Equal(got, want) {
				t.Errorf("sort %s:\n got %v\nwant %v", s, got, want)
			}
			// with a filter, the same order restricted to the matches
			f := catalog.Filters{Subject: "数学"}
			var sub []catalog.Document
			for _, d := range docs {
				if d.Subject == "数学" {
					sub = append(sub, d)
				}
			}
			if got, want := searchIDs(t, e, catalog.Query{Sort: s, Filters: f}), SortedIDs(sub, s); !slices.Equal(got, want) {
				t.Errorf("sort %s, subject 数学:\n got %v\nwant %v", s, got, want)
			}
			// with text, the non-relevance sorts still order by their key
			if s != catalog.SortRelevance {
				var match []catalog.Document
				for _, d := range docs {
					if strings.Contains(d.Title+d.Summary, "函数") {
						match = append(match, d)
					}
				}
				if got, want := searchIDs(t, e, catalog.Query{Text: "函数", Sort: s}), SortedIDs(match, s); !slices.Equal(got, want) {
					t.Errorf("sort %s, text 函数:\n got %v\nwant %v", s, got, want)
				}
			}
		})
	}
}

func testRelevanceTiebreak(t *testing.T, e catalog.Engine) {
	// d15 and d16 are identical but for their IDs
	r := search(t, e, catalog.Query{Text: "圆的面积"})
	if len(r.Hits) < 2 || r.Hits[0].ID != "d15" || r.Hits[1].ID != "d16" {
		t.Fatalf("圆的面积: hits %v, want d15 then d16 first", hitIDs(r))
	}
	if r.Hits[0].Score != r.Hits[1].Score {
		t.Logf("note: identical documents scored %v and %v", r.Hits[0].Score, r.Hits[1].Score)
	}
}

func hitIDs(r catalog.Result) []string {
	ids := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		ids[i] = h.ID
	}
	return ids
}

func testPaging(t *testing.T, e catalog.Engine, docs []catalog.Document) {
	for _, s := range []catalog.Sort{catalog.SortNewest, catalog.SortPriceAsc, catalog.SortPopular} {
		want := SortedIDs(docs, s)
		var got []string
		for page := 1; page <= 10; page++ {
			r := search(t, e, catalog.Query{Sort: s, Page: page, PerPage: 4})
			if r.Total != len(docs) {
				t.Fatalf("page %d: total %d, want %d", page, r.Total, len(docs))
			}
			if r.Page != page || r.PerPage != 4 {
				t.Errorf("result page/per_page = %d/%d, want %d/4", r.Page, r.PerPage, page)
			}
			if len(r.Hits) == 0 {
				break
			}
			got = append(got, hitIDs(r)...)
		}
		if !slices.Equal(got, want) {
			t.Errorf("sort %s, pages of 4 concatenated:\n got %v\nwant %v", s, got, want)
		}
	}
	r := search(t, e, catalog.Query{Page: 50, PerPage: 10})
	if r.Total != len(docs) || len(r.Hits) != 0 {
		t.Errorf("page past the end: total %d, %d hits; want %d, 0", r.Total, len(r.Hits), len(docs))
	}
}

func testHighlight(t *testing.T, e catalog.Engine) {
	r := search(t, e, catalog.Query{Text: "光合作用", Highlight: true})
	h := hitByID(r, "d09")
	if h == nil || h.Highlight == nil {
		t.Fatalf("光合作用: no highlighted d09 among %v", hitIDs(r))
	}
	title := string(h.Highlight.Title)
	if strings.Contains(title, "<script") || strings.Contains(title, `alert("x")`) {
		t.Errorf("hostile title not escaped: %s", title)
	}
	if !strings.Contains(title, "&lt;script&gt;") || !strings.Contains(title, "<mark>光合作用</mark>") {
		t.Errorf("title highlight = %s, want escaped script and <mark>光合作用</mark>", title)
	}
	summary := string(h.Highlight.Summary)
	if strings.Contains(summary, "<b>") || !strings.Contains(summary, "&lt;b&gt;") || !strings.Contains(summary, "&amp;") {
		t.Errorf("summary highlight = %s, want everything escaped", summary)
	}
	if stripped := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(title); strings.ContainsAny(stripped, "<>") {
		t.Errorf("title highlight has tags other than <mark>: %s", title)
	}
	// the stored title stays the raw text
	if h.Document.Title != `<script>alert("x")</script> 光合作用趣味实验` {
		t.Errorf("stored title = %q", h.Document.Title)
	}
	// sub-word and English matches are marked too
	r = search(t, e, catalog.Query{Text: "光合", Highlight: true})
	if h := hitByID(r, "d01"); h == nil || !strings.Contains(string(h.Highlight.Title), "<mark>光合") {
		t.Errorf("光合: d01 highlight = %+v", h)
	}
	r = search(t, e, catalog.Query{Text: "lesson", Highlight: true})
	if h := hitByID(r, "d07"); h == nil || !strings.Contains(string(h.Highlight.Summary), "<mark>Lesson") {
		t.Errorf("lesson: d07 highlight = %+v", h)
	}
	// without highlighting asked, none is computed
	r = search(t, e, catalog.Query{Text: "光合作用"})
	for _, h := range r.Hits {
		if h.Highlight != nil {
			t.Errorf("highlight without asking: %+v", h.Highlight)
		}
	}
	// no text: the highlight is the escaped text
	r = search(t, e, catalog.Query{Highlight: true, Filters: catalog.Filters{License: "cc-by-nd"}})
	if len(r.Hits) != 1 || strings.Contains(string(r.Hits[0].Highlight.Title), "<mark>") || !strings.Contains(string(r.Hits[0].Highlight.Title), "&lt;script&gt;") {
		t.Errorf("no-text highlight = %+v", r.Hits)
	}
}

func testText(t *testing.T, e catalog.Engine) {
	cases := []struct {
		q     string
		first string   // the hit that must come first ("" for none)
		all   []string // the hits that must be found (subset)
		none  []string // hits that must not be found
	}{
		{q: "光合", all: []string{"d01", "d09"}},
		{q: "光合作用", first: "d01", all: []string{"d01", "d09"}},
		{q: "勾股", first: "d05"},
		{q: "勾股定理", first: "d05"},
		{q: "二次函数图像教案", first: "d02", all: []string{"d03"}}, // the lesson plan, then the courseware on the topic
		{q: "七年级上册数学试卷", first: "d06"},
		{q: "lesson", first: "d07"},
		{q: "lessons", first: "d07"},
		{q: "Unit 3 课件", first: "d07"},
		{q: "圆", all: []string{"d15", "d16"}},
		{q: "叶绿体", first: "d01"},                // keyword and summary only
		{q: "淀粉检验", first: "d01"},               // body only
		{q: "海淀实验中学", all: []string{"d01"}},     // institution
		{q: "ＰＰＴ", all: []string{"d01", "d07"}}, // full-width
	}
	for _, c := range cases {
		t.Run(c.q, func(t *testing.T) {
			ids := searchIDs(t, e, catalog.Query{Text: c.q})
			if c.first != "" && (len(ids) == 0 || ids[0] != c.first) {
				t.Errorf("%s: hits %v, want %s first", c.q, ids, c.first)
			}
			for _, id := range c.all {
				if !slices.Contains(ids, id) {
					t.Errorf("%s: hits %v, want %s among them", c.q, ids, id)
				}
			}
			for _, id := range c.none {
				if slices.Contains(ids, id) {
					t.Errorf("%s: hits %v, must not contain %s", c.q, ids, id)
				}
			}
		})
	}
}

func testSynonyms(t *testing.T, e catalog.Engine) {
	cases := []struct {
		q    string
		want []string // exactly these
	}{
		{"卷子", []string{"d06"}},
		{"试题", []string{"d06"}},
		{"测试卷", []string{"d06"}},
		{"视频", []string{"d08"}},
		{"PPT", []string{"d01", "d03", "d05", "d07", "d15", "d16"}},
		{"ppt", []string{"d01", "d03", "d05", "d07", "d15", "d16"}},
		{"幻灯片", []string{"d01", "d03", "d05", "d07", "d15", "d16"}},
		{"教学设计", []string{"d02", "d04", "d10", "d17"}},
	}
	// with other words, a synonym ranks its class first
	if ids := searchIDs(t, e, catalog.Query{Text: "二次函数 PPT"}); len(ids) == 0 || ids[0] != "d03" {
		t.Errorf("二次函数 PPT: got %v, want d03 (the 课件) first", ids)
	}
	for _, c := range cases {
		t.Run(c.q, func(t *testing.T) {
			got := searchIDs(t, e, catalog.Query{Text: c.q})
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: got %v, want %v", c.q, got, c.want)
			}
		})
	}
}

func testEmpty(t *testing.T, e catalog.Engine) {
	for _, q := range []catalog.Query{
		{Text: "量子纠缠", Facets: catalog.Facets(), Highlight: true},
		{Text: "光合作用", Filters: catalog.Filters{Stage: "本科"}, Facets: catalog.Facets()},
		{Filters: catalog.Filters{Subject: "数学", Type: "网络课程"}, Facets: catalog.Facets()},
	} {
		r := search(t, e, q)
		if r.Total != 0 || r.Hits == nil || len(r.Hits) != 0 {
			t.Errorf("%+v: total %d hits %v, want 0 and an empty list", q, r.Total, r.Hits)
		}
		for f, counts := range r.Facets {
			for v, n := range counts {
				if n != 0 {
					t.Errorf("%+v: facet %s %s = %d in an empty result", q, f, v, n)
				}
			}
		}
	}
}

func testInvalid(t *testing.T, e catalog.Engine) {
	for _, q := range []catalog.Query{
		{PerPage: catalog.MaxPerPage + 1},
		{Page: -1},
		{Sort: "cheapest"},
		{Facets: []catalog.Facet{"colour"}},
		{Page: catalog.MaxWindow, PerPage: 10},
		{Text: strings.Repeat("长", catalog.MaxTextRunes+1)},
	} {
		_, err := e.Search(context.Background(), q)
		if !catalog.IsInvalid(err) {
			t.Errorf("%+v: err = %v, want a ValidationError", q, err)
		}
	}
	// a document the engine cannot index is refused whole
	err := e.Upsert(context.Background(), catalog.Document{ID: "bad id", Title: "x"})
	if !catalog.IsInvalid(err) {
		t.Errorf("upsert of an invalid document: err = %v, want a ValidationError", err)
	}
}

func testStoredFields(t *testing.T, e catalog.Engine, docs []catalog.Document) {
	r := search(t, e, catalog.Query{PerPage: catalog.MaxPerPage})
	for _, want := range docs {
		h := hitByID(r, want.ID)
		if h == nil {
			t.Errorf("%s missing from a match-all search", want.ID)
			continue
		}
		got := h.Document
		want.Body, want.Keywords = "", nil
		got.Body, got.Keywords = "", nil
		if !got.PublishedAt.Equal(want.PublishedAt) {
			t.Errorf("%s: published_at %v, want %v", want.ID, got.PublishedAt, want.PublishedAt)
		}
		got.PublishedAt, want.PublishedAt = time.Time{}, time.Time{}
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Errorf("stored document differs:\n got %+v\nwant %+v", got, want)
		}
	}
}

// Unavailable checks that a closed engine answers with catalog.ErrUnavailable.
func Unavailable(t *testing.T, e catalog.Engine) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.Search(ctx, catalog.Query{Text: "光合"}); !errors.Is(err, catalog.ErrUnavailable) {
		t.Errorf("search: err = %v, want ErrUnavailable", err)
	}
	if err := e.Upsert(ctx, Fixtures()[0]); !errors.Is(err, catalog.ErrUnavailable) {
		t.Errorf("upsert: err = %v, want ErrUnavailable", err)
	}
	if err := e.Delete(ctx, "d01"); !errors.Is(err, catalog.ErrUnavailable) {
		t.Errorf("delete: err = %v, want ErrUnavailable", err)
	}
}
