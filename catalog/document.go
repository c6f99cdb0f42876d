package catalog

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Limits on what a Document may carry into an index. Engines truncate Body to MaxBodyRunes;
// longer titles, summaries and keyword lists are refused by Validate.
const (
	MaxTitleRunes   = 200
	MaxSummaryRunes = 2000
	MaxBodyRunes    = 20000
	MaxKeywords     = 32
	MaxIDBytes      = 64
)

// Document is what the catalog indexes of one published resource. Market builds it from the
// resource, its current version and its offer; the engines store everything but Body and
// Keywords so that a hit can be shown without a database round trip.
//
// Classification values are the taxonomy's canonical values (see Taxonomy.Validate); engines do
// not check them.
type Document struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Summary     string    `json:"summary"`
	Body        string    `json:"body,omitempty"` // extracted text of the files, searchable only
	Keywords    []string  `json:"keywords,omitempty"`
	Type        string    `json:"type"`              // 资源类型, e.g. 课件
	Stage       string    `json:"stage"`             // 学段, e.g. 初中
	Grade       string    `json:"grade,omitempty"`   // 年级, e.g. 七年级
	Subject     string    `json:"subject"`           // 学科 or 专业大类
	Edition     string    `json:"edition,omitempty"` // 教材版本
	Volume      string    `json:"volume,omitempty"`  // 册次
	License     string    `json:"license"`           // licence code, e.g. cc-by
	PriceFen    int64     `json:"price_fen"`         // 0 for free items
	Rating      float64   `json:"rating"`            // average rating, 0–5
	Downloads   int64     `json:"downloads"`
	PublishedAt time.Time `json:"published_at"`
	Author      string    `json:"author,omitempty"`      // display name of the author
	Institution string    `json:"institution,omitempty"` // name of the publishing institution
}

// PriceClass is the free/paid facet of a document or filter.
type PriceClass string

const (
	PriceAny  PriceClass = ""
	PriceFree PriceClass = "free"
	PricePaid PriceClass = "paid"
)

// Price returns the document's price class: free when it costs nothing.
func (d Document) Price() PriceClass {
	if d.PriceFen == 0 {
		return PriceFree
	}
	return PricePaid
}

// Validate checks what every engine relies on: an ID, sane sizes and ranges.
func (d Document) Validate() error {
	var e errs
	switch {
	case d.ID == "":
		e.add("id", "", "required")
	case len(d.ID) > MaxIDBytes:
		e.add("id", d.ID, fmt.Sprintf("at most %d bytes", MaxIDBytes))
	default:
		for _, c := range d.ID {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				e.add("id", d.ID, "only letters, digits, - and _")
				break
			}
		}
	}
	if d.Title == "" {
		e.add("title", "", "required")
	} else if utf8.RuneCountInString(d.Title) > MaxTitleRunes {
		e.add("title", d.Title, fmt.Sprintf("at most %d characters", MaxTitleRunes))
	}
	if utf8.RuneCountInString(d.Summary) > MaxSummaryRunes {
		e.add("summary", "", fmt.Sprintf("at most %d characters", MaxSummaryRunes))
	}
	if len(d.Keywords) > MaxKeywords {
		e.add("keywords", "", fmt.Sprintf("at most %d keywords", MaxKeywords))
	}
	if d.PriceFen < 0 {
		e.add("price_fen", fmt.Sprint(d.PriceFen), "must not be negative")
	}
	if d.Rating < 0 || d.Rating > 5 || d.Rating != d.Rating {
		e.add("rating", fmt.Sprint(d.Rating), "must be between 0 and 5")
	}
	if d.Downloads < 0 {
		e.add("downloads", fmt.Sprint(d.Downloads), "must not be negative")
	}
	for name, s := range map[string]string{"title": d.Title, "summary": d.Summary, "body": d.Body} {
		if !utf8.ValidString(s) {
			e.add(name, "", "not valid UTF-8")
		}
	}
	return e.err()
}

// IndexedBody returns Body cut to MaxBodyRunes, the part engines index.
func (d Document) IndexedBody() string {
	if len(d.Body) <= MaxBodyRunes {
		return d.Body
	}
	n := 0
	for i := range d.Body {
		if n == MaxBodyRunes {
			return d.Body[:i]
		}
		n++
	}
	return d.Body
}
