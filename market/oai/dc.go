package oai

import (
	"regexp"

	"ziyuan/catalog"
	"ziyuan/market"
)

// Dublin Core (oai_dc). Simple DC has no element for 学段, 年级 or 教材, so the classification
// goes into dc:subject with a label ("学段：初中"), beside the plain keywords: readable by people,
// and read back exactly by our harvester (mapping.go). dc:type carries our type and the DCMI
// type; dc:rights the licence's URL (Creative Commons) and its code and names.

// Labels of classified dc:subject values (and LOM taxon path sources).
const (
	labelStage   = "学段"
	labelGrade   = "年级"
	labelSubject = "学科"
	labelEdition = "教材版本"
	labelVolume  = "册次"
	labelChapter = "章节"
)

// dcmiTypes maps our resource types onto the DCMI Type Vocabulary.
var dcmiTypes = map[string]string{
	"课件": "Text", "教案": "Text", "学案": "Text", "试卷": "Text", "练习": "Text",
	"微课": "MovingImage", "素材": "Image", "网络课程": "InteractiveResource", "服务": "Service",
}

var languagePattern = regexp.MustCompile(`^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$`)

// langAttrs returns an xml:lang (or LOM language) attribute for a language tag, none when the
// stored value is not a tag.
func langAttrs(name, lang string) []string {
	if languagePattern.MatchString(lang) {
		return []string{name, lang}
	}
	return nil
}

func (d dissemination) writeDC(w *xmlWriter, rec market.OAIRecord) {
	m := rec.Meta
	w.open("oai_dc:dc", "xmlns:oai_dc", NamespaceOAIDC, "xmlns:dc", NamespaceDC, "xmlns:xsi", namespaceXSI,
		"xsi:schemaLocation", NamespaceOAIDC+" "+schemaOAIDC)
	w.buf.WriteByte('\n')
	lang := langAttrs("xml:lang", m.Language)
	w.leaf("dc:title", m.Title, lang...)
	w.leafIf("dc:creator", creator(rec))
	for _, s := range []struct{ label, value string }{{labelSubject, m.Subject}, {labelStage, m.Stage}, {labelGrade, m.Grade},
		{labelEdition, m.Edition}, {labelVolume, m.Volume}, {labelChapter, m.Chapter}} {
		if s.value != "" {
			w.leaf("dc:subject", s.label+"："+s.value)
		}
	}
	for _, k := range m.Keywords {
		w.leaf("dc:subject", k, lang...)
	}
	w.leaf("dc:description", m.Summary, lang...)
	w.leafIf("dc:publisher", publisher(rec))
	if !rec.PublishedAt.IsZero() {
		w.leaf("dc:date", rec.PublishedAt.UTC().Format(timeLayout))
	}
	w.leaf("dc:type", m.Type)
	if t, ok := dcmiTypes[m.Type]; ok {
		w.leaf("dc:type", t)
	}
	for _, f := range mimeTypes(rec.Files) {
		w.leaf("dc:format", f)
	}
	w.leaf("dc:identifier", d.pageURL(rec.ID))
	if src := rec.Source; src != nil {
		w.leafIf("dc:source", src.URL)
		w.leaf("dc:source", src.Identifier)
	}
	w.leafIf("dc:language", m.Language)
	for _, p := range rec.Parents {
		w.leaf("dc:relation", d.p.Identifier(p.ID))
	}
	if src := rec.Source; src != nil {
		for _, p := range src.Parents {
			w.leaf("dc:relation", p)
		}
	}
	for _, r := range rightsStatements(d.p.tax, m.Offer.License) {
		w.leaf("dc:rights", r)
	}
	w.close("oai_dc:dc")
}

// rightsStatements describe a licence: its deed's URL when it has one, then its code with the
// Chinese and English names ("cc-by：署名（CC BY 4.0）").
func rightsStatements(tax *catalog.Taxonomy, code string) []string {
	var out []string
	if u := LicenseURL(code); u != "" {
		out = append(out, u)
	}
	s := code
	if t, ok := tax.Lookup(catalog.FieldLicense, code); ok {
		s += "：" + t.Label()
		if t.EN != "" {
			s += "（" + t.EN + "）"
		}
	}
	return append(out, s)
}
