package bleve

import (
	"html/template"
	"strings"

	"ziyuan/catalog"
)

// highlight marks in text (a stored, normalised title or summary) what the query matched: the
// Han words and phrases of the plan wherever they occur, and Latin words by their stems.
func (e *Engine) highlight(text string, p plan) template.HTML {
	if text == "" {
		return ""
	}
	var spans []catalog.Span
	lower := strings.ToLower(text)
	if len(lower) != len(text) {
		lower = text
	}
	for _, m := range p.hanMarks {
		for i := 0; i < len(lower); {
			j := strings.Index(lower[i:], m)
			if j < 0 {
				break
			}
			spans = append(spans, catalog.Span{Start: i + j, End: i + j + len(m)})
			i += j + len(m)
		}
	}
	if len(p.latinMarks) > 0 {
		for _, t := range words(e.seg, text, false, nil) {
			if !t.han && p.latinMarks[t.term] {
				spans = append(spans, catalog.Span{Start: t.start, End: t.end})
			}
		}
	}
	return catalog.MarkSpans(text, spans)
}
