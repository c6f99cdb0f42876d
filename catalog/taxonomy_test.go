package catalog_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"ziyuan/catalog"
)

func TestDefaultTaxonomy(t *testing.T) {
	tax := catalog.DefaultTaxonomy()
	if tax.GradeSystem() != "六三制" {
		t.Errorf("grade system = %s", tax.GradeSystem())
	}
	if got := tax.Values(catalog.FieldStage); !slices.Equal(got, []string{"小学", "初中", "高中", "中职", "高职", "本科"}) {
		t.Errorf("stages = %v", got)
	}
	st, _ := tax.Stage("初中")
	if got := termValues(st.Grades); !slices.Equal(got, []string{"七年级", "八年级", "九年级"}) {
		t.Errorf("初中 grades = %v", got)
	}
	if got := tax.Values(catalog.FieldLicense); !slices.Equal(got, []string{"public", "cc-by", "cc-by-sa", "cc-by-nc", "cc-by-nc-sa", "cc-by-nd", "cc-by-nc-nd", "paid"}) {
		t.Errorf("licences = %v", got)
	}
	if got := tax.Values(catalog.FieldType); !slices.Equal(got, []string{"课件", "教案", "学案", "试卷", "练习", "微课", "素材", "网络课程", "服务"}) {
		t.Errorf("types = %v", got)
	}
	voc, _ := tax.Stage("中职")
	if len(voc.Subjects) != 19 {
		t.Errorf("中职 has %d 专业大类, want the 19 of the 2021 catalogue", len(voc.Subjects))
	}
	if !tax.LicenseFree("cc-by-nc") || tax.LicenseFree("paid") || tax.LicenseFree("nonsense") {
		t.Error("LicenseFree wrong")
	}
	if c, ok := tax.Canonical(catalog.FieldSubject, "生物"); !ok || c != "生物学" {
		t.Errorf("Canonical(生物) = %s, %v", c, ok)
	}
	x, _ := tax.Lookup(catalog.FieldType, "教案")
	if x.LRMI != "LessonPlan" || x.ReviewCategory != "教学案例" {
		t.Errorf("教案 mappings = %+v", x)
	}
	b, err := json.Marshal(tax)
	if err != nil || !strings.Contains(string(b), `"grade_system":"六三制"`) || !strings.Contains(string(b), "人教PEP版") {
		t.Errorf("taxonomy JSON = %.200s, %v", b, err)
	}
}

func termValues(ts []catalog.Term) []string {
	var out []string
	for _, x := range ts {
		out = append(out, x.Value)
	}
	return out
}

func TestTaxonomyValidate(t *testing.T) {
	tax := catalog.DefaultTaxonomy()
	ok := catalog.Classification{Stage: "初中", Grade: "七年级", Subject: "数学", Edition: "人教版", Volume: "上册", Type: "试卷", License: "paid"}
	if err := tax.Validate(ok); err != nil {
		t.Fatalf("valid classification refused: %v", err)
	}
	if err := tax.Validate(catalog.Classification{Stage: "中职", Subject: "电子与信息大类", Type: "网络课程", License: "public"}); err != nil {
		t.Errorf("vocational without grade refused: %v", err)
	}
	cases := []struct {
		name    string
		mod     func(*catalog.Classification)
		field   string
		allowed string // one value that must be listed
	}{
		{"grade of another stage", func(c *catalog.Classification) { c.Grade = "三年级" }, "grade", "八年级"},
		{"grade missing in K-12", func(c *catalog.Classification) { c.Grade = "" }, "grade", "九年级"},
		{"subject of another stage", func(c *catalog.Classification) { c.Subject = "思想政治" }, "subject", "道德与法治"},
		{"alias", func(c *catalog.Classification) { c.Subject = "生物" }, "subject", "生物学"},
		{"unknown edition", func(c *catalog.Classification) { c.Edition = "火星版" }, "edition", "人教版"},
		{"unknown volume", func(c *catalog.Classification) { c.Volume = "中册" }, "volume", "全一册"},
		{"unknown type", func(c *catalog.Classification) { c.Type = "PPT" }, "type", "课件"},
		{"unknown licence", func(c *catalog.Classification) { c.License = "gpl" }, "license", "cc-by-nc-nd"},
		{"missing licence", func(c *catalog.Classification) { c.License = "" }, "license", "public"},
		{"unknown stage", func(c *catalog.Classification) { c.Stage = "幼儿园" }, "stage", "小学"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := ok
			c.mod(&cl)
			err := tax.Validate(cl)
			var ve catalog.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want ValidationError", err)
			}
			fe := ve.Field(c.field)
			if fe == nil {
				t.Fatalf("err = %v, want an error on %s", err, c.field)
			}
			if !slices.Contains(fe.Allowed, c.allowed) {
				t.Errorf("%s allowed = %v, want %s among them", c.field, fe.Allowed, c.allowed)
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Errorf("message %q does not name %s", err.Error(), c.field)
			}
		})
	}
	// every wrong field is reported at once
	err := tax.Validate(catalog.Classification{Stage: "初中", Grade: "高一", Subject: "数学", Type: "x", License: "y"})
	var ve catalog.ValidationError
	if !errors.As(err, &ve) || len(ve) != 3 {
		t.Errorf("err = %v, want three field errors", err)
	}
}

func TestTaxonomyOverride(t *testing.T) {
	override := `{
	  "version": "zj-2024",
	  "grade_system": "五四制",
	  "editions": [{"value": "浙少版", "en": "Zhejiang Children's"}, {"value": "人教版", "aliases": ["新人教版"]}],
	  "stages": [{"value": "初中", "grades": [{"value": "初中预备班"}]}],
	  "subject_groups": {"compulsory": {"subjects": [{"value": "书法"}]}},
	  "types": [{"value": "虚拟实验", "review_category": "虚拟实验实训"}]
	}`
	tax, err := catalog.LoadTaxonomy(strings.NewReader(override))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := tax.Stage("初中")
	if got := termValues(st.Grades); !slices.Equal(got, []string{"六年级", "七年级", "八年级", "九年级", "初中预备班"}) {
		t.Errorf("五四制 初中 grades = %v", got)
	}
	st, _ = tax.Stage("小学")
	if got := termValues(st.Grades); len(got) != 5 {
		t.Errorf("五四制 小学 grades = %v", got)
	}
	if err := tax.Validate(catalog.Classification{Stage: "初中", Grade: "六年级", Subject: "书法", Edition: "浙少版", Type: "虚拟实验", License: "public"}); err != nil {
		t.Errorf("override values refused: %v", err)
	}
	if c, _ := tax.Canonical(catalog.FieldEdition, "新人教版"); c != "人教版" {
		t.Errorf("added alias not applied: %q", c)
	}
	if !slices.Contains(tax.Values(catalog.FieldEdition), "北师大版") {
		t.Error("override removed a default edition")
	}
	for _, bad := range []string{`{"grade_system": "七二制"}`, `{"editons": []}`, `{"stages": [{"value": "x", "subjects": "none"}]}`, `not json`} {
		if _, err := catalog.LoadTaxonomy(strings.NewReader(bad)); err == nil {
			t.Errorf("override %s accepted", bad)
		}
	}
}

func TestSynonyms(t *testing.T) {
	s := catalog.DefaultSynonyms()
	for variant, want := range map[string]string{"PPT": "课件", "ppt": "课件", "幻灯片": "课件", "卷子": "试卷", "试题": "试卷",
		"测试卷": "试卷", "视频": "微课", "教学设计": "教案"} {
		if got, ok := s.Canonical(variant); !ok || got != want {
			t.Errorf("Canonical(%s) = %s, %v; want %s", variant, got, ok, want)
		}
	}
	if _, ok := s.Canonical("课件"); ok {
		t.Error("canonical terms map to themselves: synonyms are one-way")
	}
	got := s.Find("七年级数学ppt和卷子 happt")
	if len(got) != 2 || got[0].Canonical != "课件" || got[1].Canonical != "试卷" {
		t.Errorf("Find = %+v, want ppt and 卷子 (not the ppt inside happt)", got)
	}
	if !s.Stopword("的") || s.Stopword("光合") {
		t.Error("Stopword wrong")
	}
}

func TestMarkSpans(t *testing.T) {
	cases := []struct {
		text  string
		spans []catalog.Span
		want  string
	}{
		{`<b>光合</b>作用`, []catalog.Span{{3, 9}}, `&lt;b&gt;<mark>光合</mark>&lt;/b&gt;作用`},
		{"abcdef", []catalog.Span{{3, 5}, {0, 2}, {1, 3}}, "<mark>abcde</mark>f"}, // overlapping and touching spans merge,
		{"光合作用", []catalog.Span{{1, 4}}, "光<mark>合</mark>作用"},                     // inside a rune: moved to rune starts
		{"x & y", []catalog.Span{{-5, 100}}, "<mark>x &amp; y</mark>"},
		{"x", nil, "x"},
		{"a\xffb", []catalog.Span{{0, 1}}, "<mark>a</mark>\uFFFDb"},
	}
	for _, c := range cases {
		if got := string(catalog.MarkSpans(c.text, c.spans)); got != c.want {
			t.Errorf("MarkSpans(%q, %v) = %q, want %q", c.text, c.spans, got, c.want)
		}
	}
	tagged := "a" + catalog.TagOpen + "<i>" + catalog.TagClose + "b" + catalog.TagOpen + "c"
	if got := string(catalog.MarkTagged(tagged)); got != "a<mark>&lt;i&gt;</mark>b<mark>c</mark>" {
		t.Errorf("MarkTagged = %q", got)
	}
}

func TestNormalizeText(t *testing.T) {
	for in, want := range map[string]string{
		"  ＰＰＴ　课件\t\n":  "PPT 课件",
		"a\x00b\u200bc": "a bc", // control → space, zero-width → nothing
		"bad\xffutf8":   "bad utf8",
		"":              "",
	} {
		if got := catalog.NormalizeText(in); got != want {
			t.Errorf("NormalizeText(%q) = %q, want %q", in, got, want)
		}
	}
}
