package catalog

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"sort"
	"strings"
)

//go:embed data/synonyms.json
var defaultSynonymsJSON []byte

// SynonymGroup maps how teachers phrase a search (Variants) onto a catalog term (Canonical).
type SynonymGroup struct {
	Canonical string   `json:"canonical"`
	Variants  []string `json:"variants"`
}

// Synonyms is the query vocabulary: one-way synonyms and the filler words a query may drop.
// It is immutable once loaded and safe for concurrent use.
type Synonyms struct {
	groups    []SynonymGroup
	canonical map[string]string // lower-cased variant → canonical
	stop      map[string]bool
	equiv     map[string][]string // lower-cased word → its other spellings
	longest   int                 // longest variant, in bytes
}

type rawSynonyms struct {
	Note            string         `json:"note,omitempty"`
	Groups          []SynonymGroup `json:"groups"`
	Stopwords       []string       `json:"query_stopwords"`
	EquivalentsNote string         `json:"equivalents_note,omitempty"`
	Equivalents     [][]string     `json:"equivalents,omitempty"`
}

// DefaultSynonyms returns the embedded synonyms (PPT/幻灯片→课件, 卷子/试题/测试卷→试卷,
// 视频→微课, 教学设计→教案, …).
func DefaultSynonyms() *Synonyms {
	s, err := LoadSynonyms(bytes.NewReader(defaultSynonymsJSON))
	if err != nil {
		panic("catalog: embedded synonyms: " + err.Error())
	}
	return s
}

// LoadSynonyms reads synonyms in the format of data/synonyms.json.
func LoadSynonyms(r io.Reader) (*Synonyms, error) {
	var raw rawSynonyms
	if err := decodeStrict(r, &raw); err != nil {
		return nil, err
	}
	s := &Synonyms{canonical: map[string]string{}, stop: map[string]bool{}, equiv: map[string][]string{}}
	for _, set := range raw.Equivalents {
		for _, w := range set {
			for _, other := range set {
				if other != w {
					s.equiv[foldKey(w)] = append(s.equiv[foldKey(w)], foldKey(other))
				}
			}
		}
	}
	for _, g := range raw.Groups {
		if g.Canonical == "" {
			return nil, fmt.Errorf("synonym group without canonical term")
		}
		for _, v := range g.Variants {
			k := foldKey(v)
			if k == "" {
				return nil, fmt.Errorf("synonym group %s: empty variant", g.Canonical)
			}
			if c, dup := s.canonical[k]; dup && c != g.Canonical {
				return nil, fmt.Errorf("variant %q maps to both %s and %s", v, c, g.Canonical)
			}
			s.canonical[k] = g.Canonical
			s.longest = max(s.longest, len(k))
		}
		s.groups = append(s.groups, g)
	}
	for _, w := range raw.Stopwords {
		s.stop[foldKey(w)] = true
	}
	return s, nil
}

func foldKey(s string) string { return strings.ToLower(NormalizeText(s)) }

// Groups returns the synonym groups.
func (s *Synonyms) Groups() []SynonymGroup {
	out := make([]SynonymGroup, len(s.groups))
	for i, g := range s.groups {
		out[i] = SynonymGroup{Canonical: g.Canonical, Variants: append([]string(nil), g.Variants...)}
	}
	return out
}

// Canonical returns the catalog term a phrase stands for (case-insensitive).
func (s *Synonyms) Canonical(phrase string) (string, bool) {
	c, ok := s.canonical[foldKey(phrase)]
	return c, ok
}

// Equivalents returns the other spellings of a word (图像 → 图象), lower-cased.
func (s *Synonyms) Equivalents(word string) []string { return s.equiv[foldKey(word)] }

// EquivalentSets returns the groups of equivalent spellings.
func (s *Synonyms) EquivalentSets() [][]string {
	seen := map[string]bool{}
	var out [][]string
	for w, others := range s.equiv {
		if seen[w] {
			continue
		}
		set := append([]string{w}, others...)
		for _, x := range set {
			seen[x] = true
		}
		out = append(out, set)
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// Stopword reports whether a query word carries no meaning for search (的, 资料, the, …).
func (s *Synonyms) Stopword(word string) bool { return s.stop[foldKey(word)] }

// Stopwords returns the query stop words, sorted.
func (s *Synonyms) Stopwords() []string {
	out := make([]string, 0, len(s.stop))
	for w := range s.stop {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// Match is a synonym variant found in a text.
type Match struct {
	Start, End int    // byte range in the text
	Canonical  string // the term it stands for
}

// Find returns the non-overlapping synonym variants in text, longest match first from left to
// right. Latin variants match only at word boundaries, so "ppt" does not match inside "appt".
// text should be normalised (NormalizeText); matching ignores ASCII case.
func (s *Synonyms) Find(text string) []Match {
	lower := strings.ToLower(text)
	if len(lower) != len(text) {
		// ToLower changed byte lengths (rare non-ASCII case mappings): match on the original
		lower = text
	}
	var out []Match
	for i := 0; i < len(lower); {
		found := 0
		for end := min(len(lower), i+s.longest); end > i; end-- {
			c, ok := s.canonical[lower[i:end]]
			if ok && latinBoundary(lower, i, end) {
				out = append(out, Match{Start: i, End: end, Canonical: c})
				found = end - i
				break
			}
		}
		if found > 0 {
			i += found
			continue
		}
		i++
		for i < len(lower) && lower[i]&0xC0 == 0x80 {
			i++
		}
	}
	return out
}

func latinBoundary(s string, start, end int) bool {
	isWord := func(b byte) bool { return b >= 'a' && b <= 'z' || b >= '0' && b <= '9' }
	if isWord(s[start]) && start > 0 && isWord(s[start-1]) {
		return false
	}
	if isWord(s[end-1]) && end < len(s) && isWord(s[end]) {
		return false
	}
	return true
}
