package bleve

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func terms(toks []token) []string {
	var out []string
	for _, t := range toks {
		s := t.term
		if t.sub {
			s = "+" + s
		}
		out = append(out, fmt.Sprintf("%s@%d", s, t.pos))
	}
	return out
}

func TestWordsEmitsSubwordsAtTheSamePosition(t *testing.T) {
	seg := Segmenter()
	got := terms(words(seg, "植物的光合作用", true, nil))
	for _, want := range []string{"植物@1", "光合作用@3", "+光合@3", "+作用@3"} {
		if !slices.Contains(got, want) {
			t.Errorf("words(植物的光合作用) = %v, want %s among them", got, want)
		}
	}
	if slices.Contains(got, "+合作@3") {
		t.Errorf("words(植物的光合作用) = %v: 合作 is not a sub-word of 光合作用's segmentation", got)
	}
	// without sub-words (query side) only the words
	q := terms(words(seg, "植物的光合作用", false, nil))
	if !slices.Equal(q, []string{"植物@1", "的@2", "光合作用@3"}) {
		t.Errorf("query words = %v", q)
	}
}

func TestWordsOffsetsPointIntoTheText(t *testing.T) {
	seg := Segmenter()
	text := "人教版七年级数学上册第三章一元一次方程课件 Unit3 Lessons, PPT"
	for _, tok := range words(seg, text, true, nil) {
		if tok.start < 0 || tok.end > len(text) || tok.start >= tok.end {
			t.Fatalf("token %+v out of range", tok)
		}
		surface := strings.ToLower(text[tok.start:tok.end])
		if tok.han && surface != tok.term {
			t.Errorf("token %q has offsets of %q", tok.term, surface)
		}
	}
}

func TestWordsLatinSplitAndStem(t *testing.T) {
	seg := Segmenter()
	got := terms(words(seg, "Unit3 Lessons teaching PPT", true, nil))
	want := []string{"unit@1", "3@2", "lesson@3", "teach@4", "ppt@5"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestGrams(t *testing.T) {
	got := terms(grams("勾股a定理", nil))
	want := []string{"勾@1", "勾股@1", "股@2", "定@3", "定理@3", "理@4"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestWordsFoldFullWidthKeepingOffsets(t *testing.T) {
	seg := Segmenter()
	text := "课件ＰＰＴ　Ｕｎｉｔ３，光合"
	toks := words(seg, text, false, nil)
	got := terms(toks)
	want := []string{"课件@1", "ppt@2", "unit@3", "3@4", "光合@5"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if s := text[toks[1].start:toks[1].end]; s != "ＰＰＴ" {
		t.Errorf("ppt token covers %q of the original, want ＰＰＴ", s)
	}
	if s := text[toks[4].start:toks[4].end]; s != "光合" {
		t.Errorf("光合 token covers %q", s)
	}
}
