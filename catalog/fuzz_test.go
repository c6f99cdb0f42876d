package catalog_test

import (
	"html"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"ziyuan/catalog"
)

// FuzzParseQuery: any query string gives a valid Query or a ValidationError naming a parameter,
// never a panic, and a parsed Query always passes Normalized and survives a Values round trip.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"", "q=光合&stage=初中", "page=0", "per_page=100&page=100", "facets=none",
		"price_min=1&price_max=0", "q=%ff%fe", "sort=PRICE_ASC", "stage=%E5%88%9D%E4%B8%AD&grade=%E9%AB%98%E4%B8%80",
		"q=" + strings.Repeat("Ｐ", 300), "highlight=0&facets=price,price"} {
		f.Add(s)
	}
	tax := catalog.DefaultTaxonomy()
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := tax.ParseQuery(v)
		if err != nil {
			if !catalog.IsInvalid(err) {
				t.Fatalf("ParseQuery(%q) error %v is not a ValidationError", raw, err)
			}
			ve := err.(catalog.ValidationError)
			for _, fe := range ve {
				if fe.Field == "" || fe.Reason == "" {
					t.Fatalf("field error without field or reason: %+v", fe)
				}
			}
			return
		}
		if _, err := q.Normalized(); err != nil {
			t.Fatalf("parsed query %+v does not normalise: %v", q, err)
		}
		if q.PerPage < 1 || q.PerPage > catalog.MaxPerPage || q.Page < 1 || q.Offset()+q.PerPage > catalog.MaxWindow {
			t.Fatalf("paging out of bounds: %+v", q)
		}
		if !utf8.ValidString(q.Text) || utf8.RuneCountInString(q.Text) > catalog.MaxTextRunes {
			t.Fatalf("text %q not normalised", q.Text)
		}
		again, err := tax.ParseQuery(q.Values())
		if err != nil {
			t.Fatalf("round trip of %+v: %v", q, err)
		}
		if again.Text != q.Text || again.Filters.Stage != q.Filters.Stage || again.Sort != q.Sort || again.Page != q.Page {
			t.Fatalf("round trip changed %+v into %+v", q, again)
		}
	})
}

// FuzzNormalizeText: idempotent, valid UTF-8, no control characters or doubled spaces.
func FuzzNormalizeText(f *testing.F) {
	for _, s := range []string{"", " ＰＰＴ　课件 ", "a\x00b", "\xff\xfe", "e\u0301", "ﬁ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := catalog.NormalizeText(s)
		if !utf8.ValidString(n) {
			t.Fatalf("invalid UTF-8 from %q", s)
		}
		if catalog.NormalizeText(n) != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, catalog.NormalizeText(n))
		}
		if strings.Contains(n, "  ") || strings.HasPrefix(n, " ") || strings.HasSuffix(n, " ") {
			t.Fatalf("spaces not collapsed: %q", n)
		}
	})
}

// FuzzMarkSpans: whatever the text and spans, the output unescapes back to the text once the
// <mark> tags are removed, and holds no other markup.
func FuzzMarkSpans(f *testing.F) {
	f.Add("<script>光合</script>", 8, 14, 0, 3)
	f.Add("a&b", -1, 2, 2, 100)
	f.Fuzz(func(t *testing.T, text string, s1, e1, s2, e2 int) {
		out := string(catalog.MarkSpans(text, []catalog.Span{{s1, e1}, {s2, e2}}))
		plain := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(out)
		if strings.ContainsAny(plain, "<>") {
			t.Fatalf("markup other than <mark> in %q", out)
		}
		if html.UnescapeString(plain) != strings.ToValidUTF8(text, "\uFFFD") {
			t.Fatalf("text changed: %q → %q", text, out)
		}
	})
}

// FuzzSynonymsFind: matches are in range, ordered, non-overlapping and really are variants.
func FuzzSynonymsFind(f *testing.F) {
	f.Add("七年级数学ppt和卷子")
	f.Add("PPTX lesson plan 视频")
	s := catalog.DefaultSynonyms()
	f.Fuzz(func(t *testing.T, text string) {
		last := 0
		for _, m := range s.Find(text) {
			if m.Start < last || m.End <= m.Start || m.End > len(text) {
				t.Fatalf("bad match %+v in %q", m, text)
			}
			if c, ok := s.Canonical(text[m.Start:m.End]); !ok || c != m.Canonical {
				t.Fatalf("match %q is not a variant of %s", text[m.Start:m.End], m.Canonical)
			}
			last = m.End
		}
	})
}
