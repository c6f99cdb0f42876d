package bleve

import (
	_ "embed"
	"strings"
	"sync"

	"github.com/go-ego/gse"

	"ziyuan/catalog"
)

//go:embed data/edu_dict.txt
var eduDict string

var (
	segOnce sync.Once
	seg     *gse.Segmenter
)

// Segmenter returns the process-wide Chinese segmenter: gse with its embedded simplified-Chinese
// dictionary, plus the education vocabulary in data/edu_dict.txt, the default taxonomy's values
// and the synonym terms. Loading takes about a second and 130 MB, so it happens once per process
// (sync.Once) and every engine and analyzer shares it; after loading it is only read, which gse
// supports concurrently. gse's HMM model is not loaded (it is package-global state in gse and
// unknown words are served by the character n-gram field instead).
func Segmenter() *gse.Segmenter {
	segOnce.Do(func() {
		s := &gse.Segmenter{NotLoadHMM: true, SkipLog: true}
		var extra strings.Builder
		for _, line := range strings.Split(eduDict, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			extra.WriteString(line)
			extra.WriteByte('\n')
		}
		tax := catalog.DefaultTaxonomy()
		for _, f := range []catalog.Field{catalog.FieldStage, catalog.FieldGrade, catalog.FieldSubject,
			catalog.FieldEdition, catalog.FieldVolume, catalog.FieldType} {
			for _, t := range tax.Terms(f) {
				for _, w := range append([]string{t.Value}, t.Aliases...) {
					if isHanWord(w) {
						extra.WriteString(w + " 2000 n\n")
					}
				}
			}
		}
		for _, g := range catalog.DefaultSynonyms().Groups() {
			for _, w := range append([]string{g.Canonical}, g.Variants...) {
				if isHanWord(w) {
					extra.WriteString(w + " 2000 n\n")
				}
			}
		}
		// gse computes every word's sub-words when a dictionary is loaded, so everything is
		// loaded in one call.
		if err := s.LoadDictEmbed("zh_s, " + extra.String()); err != nil {
			panic("catalog/bleve: load gse dictionary: " + err.Error())
		}
		seg = s
	})
	return seg
}

func isHanWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !isHan(r) {
			return false
		}
	}
	return true
}
