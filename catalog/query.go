package catalog

import (
	"fmt"
	"html/template"
	"slices"
	"unicode/utf8"
)

// Sort orders the hits. Every order ends with the document ID ascending, so that equal keys
// never make pages overlap or skip.
type Sort string

const (
	// SortRelevance ranks by text relevance; without search text it falls back to SortNewest.
	SortRelevance Sort = "relevance"
	SortNewest    Sort = "newest"     // published_at descending
	SortPopular   Sort = "popular"    // downloads descending
	SortRating    Sort = "rating"     // rating descending
	SortPriceAsc  Sort = "price_asc"  // price ascending
	SortPriceDesc Sort = "price_desc" // price descending
)

// Sorts lists every sort order.
func Sorts() []Sort {
	return []Sort{SortRelevance, SortNewest, SortPopular, SortRating, SortPriceAsc, SortPriceDesc}
}

// Facet names a facet whose counts a query may request.
type Facet string

const (
	FacetStage   Facet = "stage"
	FacetGrade   Facet = "grade"
	FacetSubject Facet = "subject"
	FacetEdition Facet = "edition"
	FacetType    Facet = "type"
	FacetLicense Facet = "license"
	FacetPrice   Facet = "price" // counts under "free" and "paid"
)

// Facets lists every facet.
func Facets() []Facet {
	return []Facet{FacetStage, FacetGrade, FacetSubject, FacetEdition, FacetType, FacetLicense, FacetPrice}
}

// Paging limits.
const (
	DefaultPerPage = 20
	MaxPerPage     = 100
	// MaxWindow bounds how deep a reader can page: (page-1)*per_page + per_page ≤ MaxWindow.
	MaxWindow = 10000
	// MaxTextRunes bounds the search text.
	MaxTextRunes = 200
)

// Filters restrict a search by equality on the classification and by price. Empty fields do
// not filter.
type Filters struct {
	Stage   string
	Grade   string
	Subject string
	Edition string
	Volume  string
	Type    string
	License string
	Price   PriceClass
	// MinPriceFen and MaxPriceFen bound the price, inclusive, when set.
	MinPriceFen *int64
	MaxPriceFen *int64
}

// Query is one search.
type Query struct {
	Text    string
	Filters Filters
	// Facets lists the facets to count over all matching documents; nil counts none.
	Facets []Facet
	Sort   Sort // empty means SortRelevance
	// Page is 1-based; PerPage ≤ MaxPerPage. Zero values take the defaults.
	Page    int
	PerPage int
	// Highlight asks for Hit.Highlight: title and summary with matches in <mark>.
	Highlight bool
}

// Normalized returns q with defaults applied and its text normalised, or a ValidationError.
// Engines call it first, so callers may pass a Query built by hand.
func (q Query) Normalized() (Query, error) {
	var e errs
	q.Text = NormalizeText(q.Text)
	if utf8.RuneCountInString(q.Text) > MaxTextRunes {
		e.add("q", "", fmt.Sprintf("at most %d characters", MaxTextRunes))
	}
	if q.Sort == "" {
		q.Sort = SortRelevance
	}
	if !slices.Contains(Sorts(), q.Sort) {
		e.add("sort", string(q.Sort), "unknown sort", sortNames()...)
	}
	if q.Page == 0 {
		q.Page = 1
	}
	if q.PerPage == 0 {
		q.PerPage = DefaultPerPage
	}
	if q.Page < 1 {
		e.add("page", fmt.Sprint(q.Page), "must be at least 1")
	}
	if q.PerPage < 1 || q.PerPage > MaxPerPage {
		e.add("per_page", fmt.Sprint(q.PerPage), fmt.Sprintf("must be between 1 and %d", MaxPerPage))
	}
	if q.Page >= 1 && q.PerPage >= 1 && q.PerPage <= MaxPerPage && (q.Page-1)*q.PerPage+q.PerPage > MaxWindow {
		e.add("page", fmt.Sprint(q.Page), fmt.Sprintf("too deep: page × per_page must not exceed %d; narrow the search instead", MaxWindow))
	}
	for _, f := range q.Facets {
		if !slices.Contains(Facets(), f) {
			e.add("facets", string(f), "unknown facet", facetNames()...)
		}
	}
	f := q.Filters
	switch f.Price {
	case PriceAny, PriceFree, PricePaid:
	default:
		e.add("price", string(f.Price), "unknown price class", "free", "paid")
	}
	if f.MinPriceFen != nil && *f.MinPriceFen < 0 {
		e.add("price_min", fmt.Sprint(*f.MinPriceFen), "must not be negative")
	}
	if f.MaxPriceFen != nil && *f.MaxPriceFen < 0 {
		e.add("price_max", fmt.Sprint(*f.MaxPriceFen), "must not be negative")
	}
	if f.MinPriceFen != nil && f.MaxPriceFen != nil && *f.MinPriceFen > *f.MaxPriceFen {
		e.add("price_max", fmt.Sprint(*f.MaxPriceFen), "must not be below price_min")
	}
	return q, e.err()
}

// Offset is the index of the first hit of the page.
func (q Query) Offset() int { return (q.Page - 1) * q.PerPage }

// EffectiveSort is the order actually applied: relevance without text means newest.
func (q Query) EffectiveSort() Sort {
	if q.Sort == SortRelevance && q.Text == "" {
		return SortNewest
	}
	return q.Sort
}

// Wants reports whether facet f was requested.
func (q Query) Wants(f Facet) bool { return slices.Contains(q.Facets, f) }

// Highlight is a hit's title and summary as HTML: matches wrapped in <mark>, everything else
// escaped, safe to put in a page as it is.
type Highlight struct {
	Title   template.HTML `json:"title"`
	Summary template.HTML `json:"summary"`
}

// Hit is one matching document.
type Hit struct {
	ID    string  `json:"id"`
	Score float64 `json:"score"`
	// Document holds the stored fields (everything but Body and Keywords).
	Document Document `json:"document"`
	// Highlight is set when the query asked for it.
	Highlight *Highlight `json:"highlight,omitempty"`
}

// Result is one page of hits with the exact number of matches and the requested facet counts.
type Result struct {
	Total   int                      `json:"total"`
	Page    int                      `json:"page"`
	PerPage int                      `json:"per_page"`
	Hits    []Hit                    `json:"hits"`
	Facets  map[Facet]map[string]int `json:"facets,omitempty"`
}

func sortNames() []string {
	var s []string
	for _, x := range Sorts() {
		s = append(s, string(x))
	}
	return s
}

func facetNames() []string {
	var s []string
	for _, x := range Facets() {
		s = append(s, string(x))
	}
	return s
}
