package bleve_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"ziyuan/catalog"
	"ziyuan/catalog/bleve"
	"ziyuan/catalog/catalogtest"
)

var (
	fuzzOnce sync.Once
	fuzzEng  *bleve.Engine
)

// FuzzSearchText: any search text is analysed, turned into a bleve query and answered without an
// error other than a ValidationError, with highlights that hold no markup but <mark>.
func FuzzSearchText(f *testing.F) {
	for _, s := range []string{"光合", "二次函数图像教案", "PPT", "lesson plan", "的", "圆", "Unit 3 课件", "ＰＰＴ　卷子",
		"<script>", "a\xffb", "勾股定理PPT视频教学设计", strings.Repeat("光", 200), "图象 reading"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		fuzzOnce.Do(func() {
			e, err := bleve.OpenMemory(bleve.Options{})
			if err != nil {
				panic(err)
			}
			if err := e.Upsert(context.Background(), catalogtest.Fixtures()...); err != nil {
				panic(err)
			}
			fuzzEng = e
		})
		res, err := fuzzEng.Search(context.Background(), catalog.Query{Text: text, Highlight: true, Facets: catalog.Facets()})
		if err != nil {
			if !catalog.IsInvalid(err) {
				t.Fatalf("Search(%q): %v", text, err)
			}
			return
		}
		if res.Total < len(res.Hits) {
			t.Fatalf("total %d < %d hits", res.Total, len(res.Hits))
		}
		for _, h := range res.Hits {
			for _, s := range []string{string(h.Highlight.Title), string(h.Highlight.Summary)} {
				if strings.ContainsAny(strings.NewReplacer("<mark>", "", "</mark>", "").Replace(s), "<>") {
					t.Fatalf("highlight %q has markup", s)
				}
			}
		}
	})
}
