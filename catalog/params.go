package catalog

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Search parameters understood by ParseQuery (API.md, "Search").
const (
	ParamText      = "q"
	ParamStage     = "stage"
	ParamGrade     = "grade"
	ParamSubject   = "subject"
	ParamEdition   = "edition"
	ParamVolume    = "volume"
	ParamType      = "type"
	ParamLicense   = "license"
	ParamPrice     = "price"
	ParamPriceMin  = "price_min"
	ParamPriceMax  = "price_max"
	ParamSort      = "sort"
	ParamPage      = "page"
	ParamPerPage   = "per_page"
	ParamFacets    = "facets"
	ParamHighlight = "highlight"
)

// maxPriceFen bounds price filters (one hundred million yuan) so that they stay exact in every
// engine's numeric type.
const maxPriceFen = 10_000_000_000

// ParseQuery turns search request parameters into a Query. Taxonomy filters are checked against
// the vocabulary (aliases such as 生物 are accepted and made canonical); unknown parameters are
// ignored. Defaults: every facet, sort by relevance, page 1, DefaultPerPage, highlighting on
// ("highlight=false" turns it off, "facets=none" asks for no facet counts). Every bad parameter
// is named in the returned ValidationError, with the allowed values where the list is closed.
func (t *Taxonomy) ParseQuery(v url.Values) (Query, error) {
	var e errs
	q := Query{Facets: Facets(), Highlight: true}
	one := func(name string) string {
		vals := v[name]
		if len(vals) == 0 {
			return ""
		}
		first := strings.TrimSpace(vals[0])
		for _, other := range vals[1:] {
			if strings.TrimSpace(other) != first {
				e.add(name, other, "give this parameter once")
				return ""
			}
		}
		return first
	}
	q.Text = one(ParamText)
	vocab := func(name string, f Field, dst *string) {
		s := NormalizeText(one(name))
		if s == "" {
			return
		}
		c, ok := t.Canonical(f, s)
		if !ok {
			e.add(name, s, "unknown "+string(f), t.Values(f)...)
			return
		}
		*dst = c
	}
	vocab(ParamStage, FieldStage, &q.Filters.Stage)
	vocab(ParamGrade, FieldGrade, &q.Filters.Grade)
	vocab(ParamSubject, FieldSubject, &q.Filters.Subject)
	vocab(ParamEdition, FieldEdition, &q.Filters.Edition)
	vocab(ParamVolume, FieldVolume, &q.Filters.Volume)
	vocab(ParamType, FieldType, &q.Filters.Type)
	vocab(ParamLicense, FieldLicense, &q.Filters.License)
	if q.Filters.Stage != "" && q.Filters.Grade != "" {
		if st, ok := t.Stage(q.Filters.Stage); ok && !slices.Contains(termValues(st.Grades), q.Filters.Grade) {
			e.add(ParamGrade, q.Filters.Grade, "not a grade of "+st.Value, termValues(st.Grades)...)
		}
	}
	switch p := strings.ToLower(one(ParamPrice)); p {
	case "":
	case "free", "paid":
		q.Filters.Price = PriceClass(p)
	default:
		e.add(ParamPrice, p, "unknown price class", "free", "paid")
	}
	fen := func(name string) *int64 {
		s := one(name)
		if s == "" {
			return nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > maxPriceFen {
			e.add(name, s, fmt.Sprintf("must be a whole number of fen between 0 and %d", int64(maxPriceFen)))
			return nil
		}
		return &n
	}
	q.Filters.MinPriceFen = fen(ParamPriceMin)
	q.Filters.MaxPriceFen = fen(ParamPriceMax)
	if s := one(ParamSort); s != "" {
		q.Sort = Sort(strings.ToLower(s))
		if !slices.Contains(Sorts(), q.Sort) {
			e.add(ParamSort, s, "unknown sort", sortNames()...)
			q.Sort = ""
		}
	}
	integer := func(name string, def, lo, hi int) int {
		s := one(name)
		if s == "" {
			return def
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			e.add(name, s, fmt.Sprintf("must be a whole number between %d and %d", lo, hi))
			return def
		}
		return n
	}
	q.PerPage = integer(ParamPerPage, DefaultPerPage, 1, MaxPerPage)
	q.Page = integer(ParamPage, 1, 1, MaxWindow)
	if s := one(ParamFacets); s != "" {
		q.Facets = nil
		if s != "none" {
			for _, name := range strings.Split(s, ",") {
				f := Facet(strings.TrimSpace(name))
				if !slices.Contains(Facets(), f) {
					e.add(ParamFacets, string(f), "unknown facet", append(facetNames(), "none")...)
					continue
				}
				if !slices.Contains(q.Facets, f) {
					q.Facets = append(q.Facets, f)
				}
			}
		}
	}
	if s := one(ParamHighlight); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			e.add(ParamHighlight, s, "must be true or false", "true", "false")
		} else {
			q.Highlight = b
		}
	}
	if len(e.list) > 0 {
		return Query{}, e.err()
	}
	return q.Normalized()
}

// Values renders q as search parameters, the inverse of ParseQuery for the parameters that
// differ from the defaults (for links: pagination, removing a filter).
func (q Query) Values() url.Values {
	v := url.Values{}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	set(ParamText, q.Text)
	f := q.Filters
	set(ParamStage, f.Stage)
	set(ParamGrade, f.Grade)
	set(ParamSubject, f.Subject)
	set(ParamEdition, f.Edition)
	set(ParamVolume, f.Volume)
	set(ParamType, f.Type)
	set(ParamLicense, f.License)
	set(ParamPrice, string(f.Price))
	if f.MinPriceFen != nil {
		set(ParamPriceMin, strconv.FormatInt(*f.MinPriceFen, 10))
	}
	if f.MaxPriceFen != nil {
		set(ParamPriceMax, strconv.FormatInt(*f.MaxPriceFen, 10))
	}
	if q.Sort != "" && q.Sort != SortRelevance {
		set(ParamSort, string(q.Sort))
	}
	if q.Page > 1 {
		set(ParamPage, strconv.Itoa(q.Page))
	}
	if q.PerPage != 0 && q.PerPage != DefaultPerPage {
		set(ParamPerPage, strconv.Itoa(q.PerPage))
	}
	if !slices.Equal(q.Facets, Facets()) {
		if len(q.Facets) == 0 {
			set(ParamFacets, "none")
		} else {
			names := make([]string, len(q.Facets))
			for i, x := range q.Facets {
				names[i] = string(x)
			}
			set(ParamFacets, strings.Join(names, ","))
		}
	}
	if !q.Highlight {
		set(ParamHighlight, "false")
	}
	return v
}
