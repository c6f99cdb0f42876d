package oai

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"ziyuan/catalog"
)

// The set hierarchy follows the taxonomy: "stage" (学段) with a set per stage and, below each, a
// set per subject taught in it; and "subject" (学科) with a set per subject across stages. A
// record is in stage:<s>, stage:<s>:<j> and subject:<j> (and, as OAI-PMH hierarchies go, in
// their ancestors).
//
// setSpecs must match [A-Za-z0-9-_.!~*'()]+ per level, so Chinese values cannot appear in them
// and percent-encoding is not allowed either. Each value gets an ASCII slug from its English
// label ("初中" → "junior-secondary", "数学" → "mathematics"); where two values share an English
// label (信息科技 and 信息技术 are both "Information Technology") each gets a short hash of the
// Chinese value appended, so slugs depend on the vocabulary only, never on its order. setNames
// are Chinese.

const (
	stageRoot   = "stage"
	subjectRoot = "subject"
)

type oaiSet struct {
	Spec, Name     string
	Stage, Subject string
}

// setIndex is the set hierarchy of one taxonomy; immutable once built.
type setIndex struct {
	list          []oaiSet
	bySpec        map[string]oaiSet
	stageSlug     map[string]string
	subjectSlug   map[string]string
	subjectsByStg map[string]map[string]bool
}

func newSetIndex(t *catalog.Taxonomy) *setIndex {
	x := &setIndex{bySpec: map[string]oaiSet{}, subjectsByStg: map[string]map[string]bool{}}
	stages := t.Stages()
	stageTerms := make([]catalog.Term, len(stages))
	for i, s := range stages {
		stageTerms[i] = s.Term
	}
	x.stageSlug = slugs(stageTerms)
	x.subjectSlug = slugs(t.Terms(catalog.FieldSubject))
	x.add(oaiSet{Spec: stageRoot, Name: "学段"})
	for _, s := range stages {
		spec := stageRoot + ":" + x.stageSlug[s.Value]
		x.add(oaiSet{Spec: spec, Name: s.Value, Stage: s.Value})
		x.subjectsByStg[s.Value] = map[string]bool{}
		for _, j := range s.Subjects {
			if slug, ok := x.subjectSlug[j.Value]; ok {
				x.add(oaiSet{Spec: spec + ":" + slug, Name: s.Value + "·" + j.Value, Stage: s.Value, Subject: j.Value})
				x.subjectsByStg[s.Value][j.Value] = true
			}
		}
	}
	x.add(oaiSet{Spec: subjectRoot, Name: "学科"})
	for _, j := range t.Terms(catalog.FieldSubject) {
		x.add(oaiSet{Spec: subjectRoot + ":" + x.subjectSlug[j.Value], Name: j.Value, Subject: j.Value})
	}
	return x
}

func (x *setIndex) add(s oaiSet) {
	if _, dup := x.bySpec[s.Spec]; dup {
		return
	}
	x.list = append(x.list, s)
	x.bySpec[s.Spec] = s
}

// specsOf lists the sets a record of stage and subject is in.
func (x *setIndex) specsOf(stage, subject string) []string {
	var out []string
	if s, ok := x.stageSlug[stage]; ok {
		out = append(out, stageRoot+":"+s)
		if j, ok := x.subjectSlug[subject]; ok && x.subjectsByStg[stage][subject] {
			out = append(out, stageRoot+":"+s+":"+j)
		}
	}
	if j, ok := x.subjectSlug[subject]; ok {
		out = append(out, subjectRoot+":"+j)
	}
	return out
}

// slugs gives each term an ASCII slug, unique within the list.
func slugs(terms []catalog.Term) map[string]string {
	base := map[string]string{}
	count := map[string]int{}
	for _, t := range terms {
		b := slugify(t.EN)
		base[t.Value] = b
		count[b]++
	}
	out := map[string]string{}
	used := map[string]bool{}
	for _, t := range terms {
		b := base[t.Value]
		sum := sha256.Sum256([]byte(t.Value))
		h := hex.EncodeToString(sum[:])
		switch {
		case b == "":
			b = "x" + h[:8]
		case count[b] > 1:
			b += "-" + h[:4]
		}
		if used[b] {
			b = "x" + h[:16]
		}
		used[b] = true
		out[t.Value] = b
	}
	return out
}

// slugify lower-cases ASCII letters and digits and joins the runs between them with hyphens.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}
