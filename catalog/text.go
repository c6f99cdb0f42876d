package catalog

import (
	"html"
	"html/template"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NormalizeText prepares search text: NFKC folds full-width letters, digits and spaces to their
// ASCII forms (ＰＰＴ → PPT), invalid UTF-8 and control characters become spaces, and runs of
// space collapse to one. Case is kept; engines fold it.
func NormalizeText(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ToValidUTF8(s, " ")
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.Is(unicode.Cf, r) { // zero-width and bidi format characters vanish
			continue
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Span is a byte range [Start, End) of a text.
type Span struct{ Start, End int }

// MarkSpans returns text HTML-escaped with the given byte ranges wrapped in <mark>…</mark>.
// Spans may overlap or be unsorted; they are clamped to text and to rune boundaries, so any
// input gives well-formed, safe HTML.
func MarkSpans(text string, spans []Span) template.HTML {
	text = strings.ToValidUTF8(text, "\uFFFD")
	if len(spans) == 0 {
		return template.HTML(html.EscapeString(text))
	}
	clean := make([]Span, 0, len(spans))
	for _, s := range spans {
		s.Start = max(0, min(s.Start, len(text)))
		s.End = max(0, min(s.End, len(text)))
		for s.Start < len(text) && !utf8.RuneStart(text[s.Start]) {
			s.Start++
		}
		for s.End < len(text) && !utf8.RuneStart(text[s.End]) {
			s.End++
		}
		if s.End > s.Start {
			clean = append(clean, s)
		}
	}
	sort.Slice(clean, func(i, j int) bool { return clean[i].Start < clean[j].Start })
	var b strings.Builder
	pos := 0
	for i := 0; i < len(clean); {
		s := clean[i]
		// merge overlapping and touching spans
		j := i + 1
		for j < len(clean) && clean[j].Start <= s.End {
			s.End = max(s.End, clean[j].End)
			j++
		}
		b.WriteString(html.EscapeString(text[pos:s.Start]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(text[s.Start:s.End]))
		b.WriteString("</mark>")
		pos = s.End
		i = j
	}
	b.WriteString(html.EscapeString(text[pos:]))
	return template.HTML(b.String())
}

// Highlight sentinels: engines that mark matches with tags of their own (Meilisearch) use these
// private-use characters, which MarkTagged turns into <mark> after escaping everything else.
const (
	TagOpen  = "\uE000"
	TagClose = "\uE001"
)

// MarkTagged converts text whose matches are delimited by TagOpen/TagClose into safe HTML.
// Sentinels already present in the source text must have been removed by StripTags before
// the text was indexed; unbalanced sentinels are tolerated.
func MarkTagged(tagged string) template.HTML {
	var spans []Span
	var b strings.Builder
	b.Grow(len(tagged))
	open := -1
	for i := 0; i < len(tagged); {
		switch {
		case strings.HasPrefix(tagged[i:], TagOpen):
			if open < 0 {
				open = b.Len()
			}
			i += len(TagOpen)
		case strings.HasPrefix(tagged[i:], TagClose):
			if open >= 0 {
				spans = append(spans, Span{open, b.Len()})
				open = -1
			}
			i += len(TagClose)
		default:
			b.WriteByte(tagged[i])
			i++
		}
	}
	if open >= 0 {
		spans = append(spans, Span{open, b.Len()})
	}
	return MarkSpans(b.String(), spans)
}

// StripTags removes highlight sentinels from text before it is indexed.
func StripTags(s string) string {
	if !strings.ContainsAny(s, TagOpen+TagClose) {
		return s
	}
	return strings.NewReplacer(TagOpen, "", TagClose, "").Replace(s)
}
