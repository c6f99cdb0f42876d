package bleve

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/go-ego/gse"

	"ziyuan/catalog"
)

// unit is one meaningful piece of the search text. A document matches the unit when it matches
// any of the alternatives in a word field, or (for Han text) holds all its character bigrams in
// the grams field.
type unit struct {
	surface string     // the text as the user wrote it (lower-cased)
	alts    [][]string // each alternative: terms that must all match
	han     bool       // surface is Han text: add the grams fallback
	// facet units name a classification value (课件, 七年级, 数学, or PPT → 课件): they rank the
	// documents of that class first but do not exclude the others when the query has other words
	// (二次函数图像教案 should still offer the 二次函数图像 courseware).
	facet []facetRef
	// group numbers the words of the query: the parts of a split compound share one
	group int
	// parts are dictionary sub-words of a long word, matched at PartWeight
	parts []string
}

// facetRef is a classification value a query word names.
type facetRef struct{ field, value string }

// plan is the analysed search text.
type plan struct {
	units  []unit
	groups int
	// bonus are whole words whose parts became separate units (数学试卷 → 数学, 试卷): documents
	// holding the whole word rank higher.
	bonus []string
	// hanMarks and latinMarks are what highlighting marks.
	hanMarks   []string
	latinMarks map[string]bool
}

// analyze turns normalised search text into units: synonym phrases first (PPT → 课件 or PPT),
// then the rest segmented like the index, without stop words; compound words whose dictionary
// parts are all words become one unit per part; adjacent single characters the dictionary does
// not join become one unit (勾股), served by the grams field.
func (e *Engine) analyze(text string) plan {
	var p plan
	lower := strings.ToLower(text)
	if len(lower) != len(text) {
		lower = text
	}
	last := 0
	for _, m := range e.syn.Find(lower) {
		e.analyzeSpan(&p, lower[last:m.Start])
		phrase := lower[m.Start:m.End]
		u := unit{surface: phrase, alts: [][]string{e.queryTerms(m.Canonical)}}
		if orig := e.queryTerms(phrase); len(orig) > 0 {
			u.alts = append(u.alts, orig)
			for _, t := range orig {
				if !isHanWord(t) {
					if p.latinMarks == nil {
						p.latinMarks = map[string]bool{}
					}
					p.latinMarks[t] = true
				}
			}
		}
		u.han = isHanWord(phrase)
		u.facet = e.labels[strings.ToLower(m.Canonical)]
		u.group = p.next()
		p.units = append(p.units, u)
		p.mark(m.Canonical)
		p.mark(phrase)
		last = m.End
	}
	e.analyzeSpan(&p, lower[last:])
	for i := range p.units {
		u := &p.units[i]
		if len(u.alts) == 1 && len(u.alts[0]) == 1 {
			w := u.alts[0][0]
			u.facet = e.labels[w]
			for _, eq := range e.syn.Equivalents(u.surface) {
				if terms := e.queryTerms(eq); len(terms) > 0 {
					u.alts = append(u.alts, terms)
				}
				p.mark(eq)
				for _, t := range e.queryTerms(eq) {
					if !isHanWord(t) {
						if p.latinMarks == nil {
							p.latinMarks = map[string]bool{}
						}
						p.latinMarks[t] = true
					}
				}
			}
		}
	}
	return p
}

// queryTerms analyses a phrase into its word terms (no sub-words).
func (e *Engine) queryTerms(phrase string) []string {
	var out []string
	for _, t := range words(e.seg, phrase, false, nil) {
		out = append(out, t.term)
	}
	return out
}

func (p *plan) next() int {
	p.groups++
	return p.groups
}

func (p *plan) mark(s string) {
	for _, t := range strings.Fields(s) {
		if isHanWord(t) {
			p.hanMarks = append(p.hanMarks, t)
		}
	}
}

func (e *Engine) analyzeSpan(p *plan, span string) {
	if strings.TrimSpace(span) == "" {
		return
	}
	segs := e.seg.Segment([]byte(span))
	run, runEnd := "", -1 // adjacent unknown single characters
	flush := func() {
		if run != "" {
			p.units = append(p.units, unit{surface: run, alts: [][]string{{run}}, han: true, group: p.next()})
			p.hanMarks = append(p.hanMarks, run)
		}
		run, runEnd = "", -1
	}
	for _, sg := range segs {
		start, end := sg.Start(), sg.End()
		if start < 0 || end > len(span) || start >= end {
			continue
		}
		w := span[start:end]
		r, _ := utf8.DecodeRuneInString(w)
		if !isHan(r) {
			flush()
			for _, t := range words(e.seg, w, false, nil) {
				if e.syn.Stopword(w[t.start:t.end]) || e.syn.Stopword(t.term) {
					continue
				}
				p.units = append(p.units, unit{surface: strings.ToLower(w[t.start:t.end]), alts: [][]string{{t.term}}, group: p.next()})
				if p.latinMarks == nil {
					p.latinMarks = map[string]bool{}
				}
				p.latinMarks[t.term] = true
			}
			continue
		}
		if e.syn.Stopword(w) {
			flush()
			continue
		}
		n := utf8.RuneCountInString(w)
		tok := sg.Token()
		if n == 1 {
			if runEnd != start {
				flush()
			}
			run += w
			runEnd = end
			continue
		}
		flush()
		if parts := splitCompound(tok, n); parts != nil {
			g := p.next()
			for _, part := range parts {
				p.units = append(p.units, unit{surface: part, alts: [][]string{{part}}, han: true, group: g})
				p.hanMarks = append(p.hanMarks, part)
			}
			p.bonus = append(p.bonus, w)
			p.hanMarks = append(p.hanMarks, w)
			continue
		}
		u := unit{surface: w, alts: [][]string{{w}}, han: true, group: p.next()}
		if n >= 3 {
			// a long word the dictionary does not split into words also matches, at a lower
			// weight, documents that only use its main part (文言文 → 文言, 叶绿体 → 叶绿)
			u.parts = subwordParts(tok)
		}
		p.units = append(p.units, u)
		p.hanMarks = append(p.hanMarks, w)
	}
	flush()
}

// splitCompound returns the dictionary parts of a word of three or more characters when every
// part is itself a word of two or more characters (数学试卷 → 数学, 试卷; but 七年级 stays whole,
// since 级 is no word).
func splitCompound(tok *gse.Token, n int) []string {
	if tok == nil || n < 3 {
		return nil
	}
	subs := tok.Segments()
	if len(subs) < 2 {
		return nil
	}
	parts := make([]string, 0, len(subs))
	for _, s := range subs {
		t := s.Token()
		if t == nil || utf8.RuneCountInString(t.Text()) < 2 {
			return nil
		}
		parts = append(parts, t.Text())
	}
	return parts
}

// subwordParts returns the dictionary sub-words of two or more characters of a word.
func subwordParts(tok *gse.Token) []string {
	if tok == nil {
		return nil
	}
	var out []string
	for _, s := range tok.Segments() {
		if t := s.Token(); t != nil && utf8.RuneCountInString(t.Text()) >= 2 {
			out = append(out, t.Text())
		}
	}
	return out
}

// wordFields are the word fields a term is looked up in, with their weights.
func (e *Engine) termQuery(term string, mult float64, out []query.Query) []query.Query {
	for _, f := range [...]struct {
		name  string
		boost float64
	}{{fTitle, e.w.Title}, {fKeywords, e.w.Keywords}, {fSummary, e.w.Summary}, {fMeta, e.w.Meta}, {fBody, e.w.Body}} {
		q := query.NewTermQuery(term)
		q.SetField(f.name)
		q.SetBoost(f.boost * mult)
		out = append(out, q)
	}
	return out
}

// gramsQuery matches Han text through its bigrams (or its one character) in the grams field.
func (e *Engine) gramsQuery(s string, mult float64) query.Query {
	runes := []rune(s)
	if len(runes) == 1 {
		q := query.NewTermQuery(s)
		q.SetField(fGrams)
		q.SetBoost(e.w.Grams * mult)
		return q
	}
	parts := make([]query.Query, 0, len(runes)-1)
	for i := 0; i+1 < len(runes); i++ {
		q := query.NewTermQuery(string(runes[i : i+2]))
		q.SetField(fGrams)
		q.SetBoost(e.w.Grams * mult)
		parts = append(parts, q)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	// all bigrams but one: a three-character word still finds the variant that shares its first
	// or last two characters (叶绿体 → 叶绿素), ranked below the exact word by the coordination
	// factor
	d := query.NewDisjunctionQuery(parts)
	d.SetMin(float64(len(parts) - 1))
	return d
}

// textQuery builds the query for the analysed text; nil when no unit is left (only stop words).
func (e *Engine) textQuery(p plan) query.Query {
	if len(p.units) == 0 {
		return nil
	}
	var content, facets []query.Query
	var groups [][]query.Query // content queries by query word
	last := -1
	for _, u := range p.units {
		if len(u.facet) > 0 {
			// the classification it names, or the words themselves (PPT, lesson plan in a title)
			facets = append(facets, query.NewDisjunctionQuery([]query.Query{e.facetQuery(u.facet, 1), e.unitQuery(u, e.w.FacetText)}))
			continue
		}
		q := e.unitQuery(u, 1)
		if u.group != last {
			groups = append(groups, nil)
			last = u.group
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], q)
	}
	for _, g := range groups {
		content = append(content, conjunction(g))
	}
	var must query.Query
	var should []query.Query
	switch {
	case len(content) >= 2 && len(content)+len(facets) >= 3:
		// a longer query: all its content words but one must match, so that one word the
		// document says differently (or not at all) does not hide it; documents matching more
		// words rank higher (bleve's coordination factor)
		d := query.NewDisjunctionQuery(content)
		d.SetMin(float64(len(content) - 1))
		must = d
		should = facets
	case len(content) > 0:
		// every content word must match; classification words only rank
		must = conjunction(content)
		should = facets
	default:
		// only classification words (七年级上册数学试卷): all of them, or all but one when there
		// are three or more, so that 七年级下册 tests still follow the 上册 ones
		d := query.NewDisjunctionQuery(facets)
		if len(facets) >= 3 {
			d.SetMin(float64(len(facets) - 1))
			// documents of exactly the named class come first
			all := make([]query.Query, 0, len(facets))
			for _, u := range p.units {
				all = append(all, e.facetQuery(u.facet, 2))
			}
			should = append(should, query.NewConjunctionQuery(all))
		} else {
			d.SetMin(float64(len(facets)))
		}
		must = d
	}
	for _, w := range p.bonus {
		for _, f := range []string{fTitle, fSummary} {
			q := query.NewTermQuery(w)
			q.SetField(f)
			q.SetBoost(e.w.Phrase)
			should = append(should, q)
		}
	}
	if len(should) == 0 {
		return must
	}
	return query.NewBooleanQuery([]query.Query{must}, should, nil)
}

func conjunction(qs []query.Query) query.Query {
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewConjunctionQuery(qs)
}

// facetQuery matches the classification a facet word names, on the keyword fields.
func (e *Engine) facetQuery(refs []facetRef, mult float64) query.Query {
	qs := make([]query.Query, 0, len(refs))
	for _, r := range refs {
		q := query.NewTermQuery(r.value)
		q.SetField(r.field)
		q.SetBoost(e.w.Facet * mult)
		qs = append(qs, q)
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewDisjunctionQuery(qs)
}

// unitQuery matches one unit: any alternative in a word field, or its characters in the grams
// field; mult scales the weights.
func (e *Engine) unitQuery(u unit, mult float64) query.Query {
	var alts []query.Query
	for _, alt := range u.alts {
		switch len(alt) {
		case 0:
		case 1:
			alts = e.termQuery(alt[0], mult, alts)
		default:
			conj := make([]query.Query, 0, len(alt))
			for _, t := range alt {
				conj = append(conj, query.NewDisjunctionQuery(e.termQuery(t, mult, nil)))
			}
			alts = append(alts, query.NewConjunctionQuery(conj))
		}
	}
	if u.han {
		alts = append(alts, e.gramsQuery(u.surface, mult))
	}
	for _, part := range u.parts {
		alts = e.termQuery(part, mult*e.w.Part, alts)
		alts = append(alts, e.gramsQuery(part, mult*e.w.Part))
	}
	return query.NewDisjunctionQuery(alts)
}

func termFilter(field, value string) query.Query {
	q := query.NewTermQuery(value)
	q.SetField(field)
	return q
}

func (e *Engine) filterQueries(f catalog.Filters) []query.Query {
	var out []query.Query
	for _, kv := range [...][2]string{{fStage, f.Stage}, {fGrade, f.Grade}, {fSubject, f.Subject},
		{fEdition, f.Edition}, {fVolume, f.Volume}, {fType, f.Type}, {fLicense, f.License},
		{fPriceClass, string(f.Price)}} {
		if kv[1] != "" {
			out = append(out, termFilter(kv[0], kv[1]))
		}
	}
	if f.MinPriceFen != nil || f.MaxPriceFen != nil {
		var lo, hi *float64
		t := true
		if f.MinPriceFen != nil {
			v := float64(*f.MinPriceFen)
			lo = &v
		}
		if f.MaxPriceFen != nil {
			v := float64(*f.MaxPriceFen)
			hi = &v
		}
		q := query.NewNumericRangeInclusiveQuery(lo, hi, &t, &t)
		q.SetField(fPrice)
		out = append(out, q)
	}
	return out
}

// facetSep joins a facet's name and value in the terms of fFacets.
const facetSep = "\x1f"

// facetTerms lists a document's facet values as fFacets terms.
func facetTerms(d catalog.Document) []string {
	var out []string
	for _, fv := range [...]struct {
		f catalog.Facet
		v string
	}{{catalog.FacetStage, d.Stage}, {catalog.FacetGrade, d.Grade}, {catalog.FacetSubject, d.Subject},
		{catalog.FacetEdition, d.Edition}, {catalog.FacetType, d.Type}, {catalog.FacetLicense, d.License},
		{catalog.FacetPrice, string(d.Price())}} {
		if fv.v != "" {
			out = append(out, string(fv.f)+facetSep+fv.v)
		}
	}
	return out
}

var sortOrders = map[catalog.Sort][]string{
	catalog.SortRelevance: {"-_score", "_id"},
	catalog.SortNewest:    {"-" + fPublished, "_id"},
	catalog.SortPopular:   {"-" + fDownloads, "_id"},
	catalog.SortRating:    {"-" + fRating, "_id"},
	catalog.SortPriceAsc:  {fPrice, "_id"},
	catalog.SortPriceDesc: {"-" + fPrice, "_id"},
}

// Search answers q.
func (e *Engine) Search(ctx context.Context, q catalog.Query) (catalog.Result, error) {
	q, err := q.Normalized()
	if err != nil {
		return catalog.Result{}, err
	}
	res := catalog.Result{Page: q.Page, PerPage: q.PerPage, Hits: []catalog.Hit{}}
	if len(q.Facets) > 0 {
		res.Facets = make(map[catalog.Facet]map[string]int, len(q.Facets))
		for _, f := range q.Facets {
			res.Facets[f] = map[string]int{}
		}
	}
	var p plan
	musts := e.filterQueries(q.Filters)
	if q.Text != "" {
		p = e.analyze(q.Text)
		tq := e.textQuery(p)
		if tq == nil {
			return res, nil // nothing searchable in the text (only stop words)
		}
		musts = append([]query.Query{tq}, musts...)
	}
	var top query.Query
	switch len(musts) {
	case 0:
		top = query.NewMatchAllQuery()
	case 1:
		top = musts[0]
	default:
		top = query.NewConjunctionQuery(musts)
	}
	sort := q.EffectiveSort()
	req := bleve.NewSearchRequestOptions(top, q.PerPage, q.Offset(), false)
	req.SortBy(sortOrders[sort])
	if sort != catalog.SortRelevance {
		req.Score = "none"
	}
	req.Fields = storedFields
	if len(q.Facets) > 0 {
		// Every facet value of the catalog fits: the taxonomy has a few hundred at most.
		req.AddFacet(fFacets, bleve.NewFacetRequest(fFacets, 100000))
	}

	e.mu.RLock()
	idx, err := e.index()
	if err != nil {
		e.mu.RUnlock()
		return catalog.Result{}, err
	}
	sr, err := idx.SearchInContext(ctx, req)
	e.mu.RUnlock()
	if err != nil {
		if ctx.Err() != nil {
			return catalog.Result{}, ctx.Err()
		}
		return catalog.Result{}, wrap("search", err)
	}
	res.Total = int(sr.Total)
	for _, h := range sr.Hits {
		hit := catalog.Hit{ID: h.ID, Score: h.Score, Document: hitDocument(h)}
		if q.Highlight {
			hit.Highlight = &catalog.Highlight{
				Title:   e.highlight(hit.Document.Title, p),
				Summary: e.highlight(hit.Document.Summary, p),
			}
		}
		res.Hits = append(res.Hits, hit)
	}
	if fr := sr.Facets[fFacets]; fr != nil && fr.Terms != nil {
		for _, t := range fr.Terms.Terms() {
			name, value, ok := strings.Cut(t.Term, facetSep)
			if counts := res.Facets[catalog.Facet(name)]; ok && counts != nil {
				counts[value] = t.Count
			}
		}
	}
	return res, nil
}
