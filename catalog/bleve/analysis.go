package bleve

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/go-ego/gse"
)

// Analyzer names, registered with bleve's registry so that an index's stored mapping resolves
// them when it is reopened.
const (
	// WordAnalyzer segments Chinese into dictionary words and adds, at the same position, the
	// dictionary sub-words of words of three or more characters (光合作用 → 光合, 作用), so that a
	// search for part of a long word finds it. Latin words are lower-cased and split from digits
	// ("Unit3" → unit, 3), English words are Snowball-stemmed ("lessons" → lesson).
	WordAnalyzer = "ziyuan_zh_words"
	// GramAnalyzer emits every Han character and every pair of adjacent Han characters: the
	// fallback field for words the dictionary does not know and for single characters.
	GramAnalyzer = "ziyuan_zh_grams"
)

func init() {
	registry.RegisterAnalyzer(WordAnalyzer, func(map[string]interface{}, *registry.Cache) (analysis.Analyzer, error) {
		return wordAnalyzer{seg: Segmenter(), subwords: true}, nil
	})
	registry.RegisterAnalyzer(GramAnalyzer, func(map[string]interface{}, *registry.Cache) (analysis.Analyzer, error) {
		return gramAnalyzer{}, nil
	})
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// token is one analysed term with its byte range in the text and its 1-based position.
type token struct {
	term       string
	start, end int
	pos        int
	han        bool
	sub        bool // a sub-word emitted at the position of its word
}

// words analyses text into word tokens. With subwords, dictionary sub-words of Han words of three
// or more characters are added at the word's position.
func words(seg *gse.Segmenter, text string, subwords bool, out []token) []token {
	if text == "" {
		return out
	}
	first := len(out)
	folded, offsets := foldWidth(text)
	out = segmentWords(seg, folded, subwords, out)
	if offsets != nil {
		for i := first; i < len(out); i++ {
			out[i].start, out[i].end = offsets[out[i].start], offsets[out[i].end]
		}
	}
	return out
}

// foldWidth maps full-width ASCII forms (ＰＰＴ, ３) to ASCII and the ideographic space to a
// space, so that they analyse like their ASCII forms. offsets maps every byte offset of the
// folded text to the original (nil when nothing changed), so tokens point into the original
// text, which is what is stored and highlighted.
func foldWidth(text string) (string, []int) {
	i := strings.IndexFunc(text, isWide)
	if i < 0 {
		return text, nil
	}
	var b strings.Builder
	b.Grow(len(text))
	offsets := make([]int, 0, len(text)+1)
	for j, r := range text {
		if isWide(r) {
			if r == '\u3000' {
				r = ' '
			} else {
				r -= 0xFF01 - 0x21
			}
		}
		n, _ := b.WriteRune(r)
		for k := 0; k < n; k++ {
			offsets = append(offsets, j)
		}
	}
	offsets = append(offsets, len(text))
	return b.String(), offsets
}

func isWide(r rune) bool { return r >= 0xFF01 && r <= 0xFF5E || r == '\u3000' }

func segmentWords(seg *gse.Segmenter, text string, subwords bool, out []token) []token {
	pos := 0
	for _, sg := range seg.Segment([]byte(text)) {
		start, end := sg.Start(), sg.End()
		if start < 0 || end > len(text) || start >= end {
			continue
		}
		w := text[start:end]
		r, _ := utf8.DecodeRuneInString(w)
		switch {
		case isHan(r):
			pos++
			out = append(out, token{term: w, start: start, end: end, pos: pos, han: true})
			if subwords && utf8.RuneCountInString(w) >= 3 {
				out = appendSubwords(out, sg.Token(), start, pos, 0)
			}
		case unicode.IsLetter(r) || unicode.IsNumber(r):
			// gse groups runs of letters and digits; split them at letter/digit boundaries and
			// at anything that is neither
			i := 0
			for i < len(w) {
				r, size := utf8.DecodeRuneInString(w[i:])
				if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
					i += size
					continue
				}
				digit := unicode.IsNumber(r)
				j := i
				for j < len(w) {
					r2, s2 := utf8.DecodeRuneInString(w[j:])
					if !(unicode.IsLetter(r2) || unicode.IsNumber(r2)) || unicode.IsNumber(r2) != digit || isHan(r2) {
						break
					}
					j += s2
				}
				if j == i { // a Han character inside a Latin run: leave it to the next segment
					i += size
					continue
				}
				term := strings.ToLower(w[i:j])
				if !digit {
					term = stem(term)
				}
				pos++
				out = append(out, token{term: term, start: start + i, end: start + j, pos: pos})
				i = j
			}
		}
	}
	return out
}

// appendSubwords walks gse's pre-computed segmentation tree of a dictionary word and emits the
// sub-words of two or more characters.
func appendSubwords(out []token, t *gse.Token, base, pos, depth int) []token {
	if t == nil || depth > 4 {
		return out
	}
	for _, sub := range t.Segments() {
		st := sub.Token()
		if st == nil {
			continue
		}
		text := st.Text()
		n := utf8.RuneCountInString(text)
		if n < 2 {
			continue
		}
		s := base + sub.Start()
		out = append(out, token{term: text, start: s, end: s + len(text), pos: pos, han: true, sub: true})
		if n >= 3 {
			out = appendSubwords(out, st, s, pos, depth+1)
		}
	}
	return out
}

// stem Snowball-stems a lower-case Latin word; other scripts are returned as they are.
func stem(w string) string {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return w
		}
	}
	if len(w) < 3 {
		return w
	}
	env := snowballstem.NewEnv(w)
	english.Stem(env)
	return env.Current()
}

// grams analyses text into Han unigrams and bigrams; each character's unigram and the bigram it
// starts share a position.
func grams(text string, out []token) []token {
	pos := 0
	prevStart, prevEnd := -1, -1
	for i, r := range text {
		size := utf8.RuneLen(r)
		if !isHan(r) {
			prevStart = -1
			continue
		}
		pos++
		if prevStart >= 0 {
			out = append(out, token{term: text[prevStart : i+size], start: prevStart, end: i + size, pos: pos - 1, han: true})
		}
		out = append(out, token{term: text[i : i+size], start: i, end: i + size, pos: pos, han: true})
		prevStart, prevEnd = i, i+size
	}
	_ = prevEnd
	return out
}

type wordAnalyzer struct {
	seg      *gse.Segmenter
	subwords bool
}

func (a wordAnalyzer) Analyze(input []byte) analysis.TokenStream {
	return toStream(words(a.seg, string(input), a.subwords, nil))
}

type gramAnalyzer struct{}

func (gramAnalyzer) Analyze(input []byte) analysis.TokenStream {
	return toStream(grams(string(input), nil))
}

func toStream(toks []token) analysis.TokenStream {
	ts := make(analysis.TokenStream, len(toks))
	backing := make([]analysis.Token, len(toks))
	for i, t := range toks {
		typ := analysis.AlphaNumeric
		if t.han {
			typ = analysis.Ideographic
		}
		backing[i] = analysis.Token{Term: []byte(t.term), Start: t.start, End: t.end, Position: t.pos, Type: typ}
		ts[i] = &backing[i]
	}
	return ts
}

type analysisTokenStream = analysis.TokenStream

func keywordStream(input []byte) analysis.TokenStream {
	return analysis.TokenStream{&analysis.Token{Term: input, Start: 0, End: len(input), Position: 1, Type: analysis.AlphaNumeric}}
}
