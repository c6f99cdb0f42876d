package web

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"ziyuan/catalog"
	"ziyuan/market"
	"ziyuan/market/oai"
)

// Every resource page describes its resource as a schema.org LearningResource (LRMI) in JSON-LD,
// so that search engines and other platforms read the same metadata the page shows.
//
// The description goes into <script type="application/ld+json"> as a Go value: html/template
// treats that script type as JavaScript context and writes the value with json.Marshal, which
// escapes <, > and & — a title holding "</script>" cannot end the element. The CSP's
// script-src 'self' does not apply: browsers do not execute a data block.

type ldTerm struct {
	Type  string `json:"@type"`
	Name  string `json:"name"`
	InSet string `json:"inDefinedTermSet,omitempty"`
}

type ldAgent struct {
	Type        string   `json:"@type"`
	Name        string   `json:"name"`
	Affiliation *ldAgent `json:"affiliation,omitempty"`
}

type ldRef struct {
	Type string `json:"@type"`
	ID   string `json:"@id"`
	URL  string `json:"url"`
	Name string `json:"name"`
}

type ldLicense struct {
	Type string `json:"@type"`
	Name string `json:"name"`
}

type ldOffer struct {
	Type     string `json:"@type"`
	Name     string `json:"name"`
	Price    string `json:"price"`
	Currency string `json:"priceCurrency"`
	URL      string `json:"url"`
}

type learningResource struct {
	Context              string    `json:"@context"`
	Type                 string    `json:"@type"`
	ID                   string    `json:"@id"`
	URL                  string    `json:"url"`
	Identifier           []string  `json:"identifier"`
	Name                 string    `json:"name"`
	Description          string    `json:"description"`
	InLanguage           string    `json:"inLanguage"`
	Keywords             []string  `json:"keywords"`
	LearningResourceType []string  `json:"learningResourceType"`
	EducationalLevel     []ldTerm  `json:"educationalLevel"`
	About                []ldTerm  `json:"about"`
	License              any       `json:"license"`
	IsAccessibleForFree  bool      `json:"isAccessibleForFree"`
	Author               ldAgent   `json:"author"`
	Publisher            *ldAgent  `json:"publisher,omitempty"`
	DateCreated          string    `json:"dateCreated"`
	DatePublished        string    `json:"datePublished,omitempty"`
	DateModified         string    `json:"dateModified"`
	Version              string    `json:"version"`
	EncodingFormat       []string  `json:"encodingFormat,omitempty"`
	IsBasedOn            []ldRef   `json:"isBasedOn,omitempty"`
	Offers               []ldOffer `json:"offers,omitempty"`
	SameAs               []string  `json:"sameAs,omitempty"`
}

// learningResource describes r; site is the site's root URL.
func (s *Server) learningResource(site string, r market.Resource) learningResource {
	m := r.Meta
	tax := s.m.Taxonomy()
	page := func(id string) string { return site + "/resources/" + id }
	zh := loc{"zh"}
	ld := learningResource{Context: "https://schema.org", Type: "LearningResource", ID: page(r.ID), URL: page(r.ID),
		Identifier: []string{r.ID, s.oai.Identifier(r.ID)}, Name: m.Title, Description: m.Summary, InLanguage: m.Language,
		Keywords: m.Keywords, IsAccessibleForFree: m.Offer.Free(), DateCreated: r.CreatedAt.UTC().Format(time.RFC3339),
		DateModified: r.UpdatedAt.UTC().Format(time.RFC3339), Version: strconv.Itoa(r.Version)}
	if ld.Keywords == nil {
		ld.Keywords = []string{}
	}
	if t, ok := tax.Lookup(catalog.FieldType, m.Type); ok && t.LRMI != "" {
		ld.LearningResourceType = append(ld.LearningResourceType, t.LRMI)
	}
	ld.LearningResourceType = append(ld.LearningResourceType, m.Type)
	ld.EducationalLevel = []ldTerm{{Type: "DefinedTerm", Name: m.Stage, InSet: "学段"}}
	if m.Grade != "" {
		ld.EducationalLevel = append(ld.EducationalLevel, ldTerm{Type: "DefinedTerm", Name: m.Grade, InSet: "年级"})
	}
	ld.About = []ldTerm{{Type: "DefinedTerm", Name: m.Subject, InSet: "学科"}}
	for _, t := range []struct{ value, set string }{{m.Edition, "教材版本"}, {m.Volume, "册次"}, {m.Chapter, "章节"}} {
		if t.value != "" {
			ld.About = append(ld.About, ldTerm{Type: "DefinedTerm", Name: t.value, InSet: t.set})
		}
	}
	if u := oai.LicenseURL(m.Offer.License); u != "" {
		ld.License = u
	} else {
		name := m.Offer.License
		if t, ok := tax.Lookup(catalog.FieldLicense, m.Offer.License); ok {
			name = t.Label()
		}
		ld.License = ldLicense{Type: "CreativeWork", Name: name}
	}
	author, org := r.Author, r.Institution
	if src := r.Source; src != nil {
		// A harvested work keeps its creator; the harvest account only holds it here.
		if src.Creator != "" {
			author = src.Creator
		}
		if src.Publisher != "" {
			org = src.Publisher
		}
		if src.URL != "" {
			ld.SameAs = []string{src.URL}
		}
	}
	ld.Author = ldAgent{Type: "Person", Name: author}
	if org != "" {
		ld.Author.Affiliation = &ldAgent{Type: "Organization", Name: org}
		ld.Publisher = &ldAgent{Type: "Organization", Name: org}
	}
	if r.PublishedAt != nil {
		ld.DatePublished = r.PublishedAt.UTC().Format(time.RFC3339)
	}
	for _, f := range r.Files {
		mt, _, _ := strings.Cut(f.MIME, ";")
		if mt = strings.TrimSpace(mt); mt != "" && !slices.Contains(ld.EncodingFormat, mt) {
			ld.EncodingFormat = append(ld.EncodingFormat, mt)
		}
	}
	for _, p := range r.ParentRefs {
		ld.IsBasedOn = append(ld.IsBasedOn, ldRef{Type: "LearningResource", ID: page(p.ID), URL: page(p.ID), Name: p.Title})
	}
	for _, sc := range market.PaidScopes {
		if fen, ok := m.Offer.PriceFor(sc); ok {
			ld.Offers = append(ld.Offers, ldOffer{Type: "Offer", Name: zh.T("scope." + sc), Price: decimalYuan(fen), Currency: "CNY", URL: page(r.ID)})
		}
	}
	return ld
}

// decimalYuan writes fen as a decimal amount of yuan ("9.90"), without floating point.
func decimalYuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return sign + strconv.FormatInt(fen/100, 10) + "." + string([]byte{byte('0' + fen%100/10), byte('0' + fen%10)})
}
