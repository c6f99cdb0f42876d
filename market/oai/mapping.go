package oai

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"ziyuan/catalog"
	"ziyuan/market"
)

// Mapping harvested records onto the taxonomy. Values the record labels (学段：初中 in Dublin
// Core, a 学段 taxon path in LOM) are taken as they are; otherwise any of the record's strings
// that is a value (or alias) of the vocabulary is. Resource types come from our vocabulary when
// the record uses it, else from LOM's, LRMI's or DCMI's. A record that misses what the taxonomy
// requires (a stage, a grade in K-12, a subject, a type) or a free licence is unmappable: the
// harvest reports it by identifier with the reason.

// Unmappable says why a record cannot be imported.
type Unmappable struct {
	Reason string
}

func (e *Unmappable) Error() string { return e.Reason }

func unmappable(format string, args ...any) *Unmappable {
	return &Unmappable{Reason: fmt.Sprintf(format, args...)}
}

// Limits of the description market accepts; longer texts are cut rather than refused (the
// reviewer sees the source link).
const (
	maxTitleRunes   = 120
	maxSummaryRunes = 2000
	maxKeywordRunes = 32
	maxKeywords     = 20
)

// Mapper maps source records onto a taxonomy.
type Mapper struct {
	Taxonomy *catalog.Taxonomy
}

// dcmiToType maps DCMI types that say enough onto ours (Text says too little).
var dcmiToType = map[string]string{"movingimage": "微课", "image": "素材", "stillimage": "素材", "sound": "素材"}

// Map turns a live source record into the record market imports, or an *Unmappable.
func (mp Mapper) Map(rec SourceRecord) (market.HarvestedRecord, error) {
	out := market.HarvestedRecord{Identifier: rec.Identifier, Datestamp: rec.Datestamp, Deleted: rec.Deleted}
	if rec.Deleted {
		return out, nil
	}
	if rec.NoMetadata {
		return out, unmappable("no metadata in a format Ziyuan reads (oai_dc, lom)")
	}
	tax := mp.Taxonomy
	m := &out.Meta
	if len(rec.Titles) == 0 {
		return out, unmappable("no title")
	}
	m.Title = cut(rec.Titles[0], maxTitleRunes)
	m.Summary = m.Title // the profile requires a description; a title is the least one can say
	if len(rec.Descriptions) > 0 {
		m.Summary = cut(rec.Descriptions[0], maxSummaryRunes)
	}
	m.Language = "zh"
	for _, l := range rec.Languages {
		if lang, ok := normalizeLanguage(l); ok {
			m.Language = lang
			break
		}
	}

	// The strings a vocabulary value may hide in, labelled ones first.
	pool := func(label string) []string {
		var out []string
		out = append(out, rec.Labelled[label]...)
		out = append(out, rec.Candidates...)
		out = append(out, rec.Keywords...)
		return out
	}
	stage, ok := first(pool(labelStage), func(s string) (string, bool) { return tax.Canonical(catalog.FieldStage, s) })
	if !ok {
		return out, unmappable("no 学段 (stage) the taxonomy knows among %s", quoteSome(pool(labelStage)))
	}
	st, _ := tax.Stage(stage)
	m.Stage = stage
	in := func(terms []catalog.Term, f catalog.Field) func(string) (string, bool) {
		return func(s string) (string, bool) {
			v, ok := tax.Canonical(f, s)
			return v, ok && slices.ContainsFunc(terms, func(t catalog.Term) bool { return t.Value == v })
		}
	}
	if g, ok := first(pool(labelGrade), in(st.Grades, catalog.FieldGrade)); ok {
		m.Grade = g
	} else if st.K12 {
		return out, unmappable("no 年级 (grade) of %s among %s", stage, quoteSome(pool(labelGrade)))
	}
	subject, ok := first(pool(labelSubject), in(st.Subjects, catalog.FieldSubject))
	if !ok {
		return out, unmappable("no 学科 (subject) of %s among %s", stage, quoteSome(pool(labelSubject)))
	}
	m.Subject = subject
	if e, ok := first(pool(labelEdition), func(s string) (string, bool) { return tax.Canonical(catalog.FieldEdition, s) }); ok {
		m.Edition = e
	}
	if v, ok := first(pool(labelVolume), func(s string) (string, bool) { return tax.Canonical(catalog.FieldVolume, s) }); ok {
		m.Volume = v
	}
	if c := rec.Labelled[labelChapter]; len(c) > 0 {
		m.Chapter = cut(c[0], 120)
	}
	if m.Type, ok = mp.resourceType(rec.Types); !ok {
		return out, unmappable("no resource type Ziyuan knows among %s", quoteSome(rec.Types))
	}
	if m.Offer.License, ok = license(rec); !ok {
		return out, unmappable("no licence statement Ziyuan recognises among %s", quoteSome(rec.Rights))
	}
	if m.Offer.License == market.LicensePaid {
		return out, unmappable("a paid item: only free public-welfare and openly licensed items are harvested")
	}

	for _, k := range rec.Keywords {
		// Keywords stay as the record gives them, also those a classification was read from:
		// they are what the source's readers searched by.
		if k = cut(k, maxKeywordRunes); !slices.Contains(m.Keywords, k) && len(m.Keywords) < maxKeywords {
			m.Keywords = append(m.Keywords, k)
		}
	}
	if len(m.Keywords) == 0 {
		m.Keywords = []string{m.Subject}
	}
	if len(rec.Creators) > 0 {
		out.Creator = cut(rec.Creators[0], 64)
	}
	if len(rec.Publishers) > 0 {
		out.Publisher = cut(rec.Publishers[0], 128)
	}
	if len(rec.URLs) > 0 {
		out.URL = rec.URLs[0]
	}
	for _, p := range rec.Parents {
		if !slices.Contains(out.Parents, p) && len(out.Parents) < 16 {
			out.Parents = append(out.Parents, p)
		}
	}
	return out, nil
}

// resourceType reads a type: one of ours (or an alias), else LOM's, LRMI's or DCMI's word for it.
func (mp Mapper) resourceType(cands []string) (string, bool) {
	tax := mp.Taxonomy
	if t, ok := first(cands, func(s string) (string, bool) { return tax.Canonical(catalog.FieldType, s) }); ok {
		return t, true
	}
	terms := tax.Terms(catalog.FieldType)
	for _, c := range cands {
		low := strings.ToLower(strings.TrimSpace(c))
		for _, t := range terms {
			if t.LOM != "" && t.LOM == low || t.LRMI != "" && strings.EqualFold(t.LRMI, c) || strings.EqualFold(t.EN, c) {
				return t.Value, true
			}
		}
		if t, ok := dcmiToType[low]; ok {
			return t, true
		}
	}
	return "", false
}

// license reads the licence from the rights statements, else from LOM's cost: an item that
// costs nothing and names no licence is taken as public-welfare.
func license(rec SourceRecord) (string, bool) {
	for _, r := range rec.Rights {
		if l, ok := licenseFrom(r); ok {
			return l, true
		}
	}
	switch strings.ToLower(rec.Cost) {
	case "no":
		return market.LicensePublic, true
	case "yes":
		return market.LicensePaid, true
	}
	return "", false
}

// normalizeLanguage maps the spellings of languages records use onto BCP 47 tags.
func normalizeLanguage(s string) (string, bool) {
	low := strings.ToLower(strings.TrimSpace(s))
	switch low {
	case "zh", "zh-cn", "zh-hans", "zh-hans-cn", "chi", "zho", "chinese", "中文", "汉语", "cn":
		return "zh", true
	case "en", "en-us", "en-gb", "eng", "english", "英语":
		return "en", true
	}
	if languagePattern.MatchString(low) && len(low) <= 16 {
		return low, true
	}
	return "", false
}

// first returns the first string f accepts, as f maps it.
func first(cands []string, f func(string) (string, bool)) (string, bool) {
	for _, c := range cands {
		if v, ok := f(strings.TrimSpace(c)); ok {
			return v, true
		}
	}
	return "", false
}

// cut shortens s to n runes.
func cut(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n-1])) + "…"
}

// quoteSome lists a few strings for a report.
func quoteSome(ss []string) string {
	if len(ss) == 0 {
		return "(nothing given)"
	}
	var q []string
	for i, s := range ss {
		if i == 6 {
			q = append(q, fmt.Sprintf("and %d more", len(ss)-i))
			break
		}
		q = append(q, fmt.Sprintf("%q", cut(s, 40)))
	}
	return strings.Join(q, ", ")
}
