package oai

import (
	"strconv"
	"strings"

	"ziyuan/catalog"
	"ziyuan/market"
)

// IEEE LOM in its XML binding (IEEE 1484.12.3, namespace http://ltsc.ieee.org/xsd/LOM), the
// binding GB/T 29807 follows for the Chinese LOM (GB/T 21365). TAXONOMY.md's mapping:
// title 1.2, language 1.3, description 1.4, keywords 1.5, contributors 2.3, format 4.1,
// 资源类型 5.2, 学段 5.6 context, licence 6, 学科 and 教材 9 classification. Derivations are
// relations of kind "isbasedon" (7).
//
// Classification keeps every value of the taxonomy apart, one taxon path each with a source
// naming the vocabulary (学段 → grade, 学科, 教材版本, 册次, 章节), so another Ziyuan reads them back
// exactly; vocabularies are LOMv1.0 where LOM has one.

const lomVocab = "LOMv1.0"

// typeVocab names the taxonomy's 资源类型 vocabulary where LOM allows another vocabulary.
const typeVocab = "资源类型"

// lomContext maps a 学段 onto LOM's context vocabulary (5.6).
func lomContext(stage string) string {
	switch stage {
	case "高职", "本科":
		return "higher education"
	case "":
		return "other"
	}
	return "school"
}

func (d dissemination) writeLOM(w *xmlWriter, rec market.OAIRecord) {
	m := rec.Meta
	lang := langAttrs("language", m.Language)
	// LOM's language elements take a language tag; a stored value that is none is left out.
	tag := ""
	if lang != nil {
		tag = m.Language
	}
	langString := func(name, text string) {
		w.open(name)
		w.leaf("string", text, lang...)
		w.close(name)
	}
	vocab := func(name, value string) {
		w.open(name)
		w.leaf("source", lomVocab)
		w.leaf("value", value)
		w.close(name)
	}
	identifier := func(catalog, entry string) {
		w.open("identifier")
		w.leaf("catalog", catalog)
		w.leaf("entry", entry)
		w.close("identifier")
	}
	w.open("lom", "xmlns", NamespaceLOM, "xmlns:xsi", namespaceXSI, "xsi:schemaLocation", NamespaceLOM+" "+schemaLOM)
	w.buf.WriteByte('\n')

	w.open("general")
	identifier("URI", d.pageURL(rec.ID))
	identifier("oai", d.p.Identifier(rec.ID))
	langString("title", m.Title)
	w.leafIf("language", tag)
	langString("description", m.Summary)
	for _, k := range m.Keywords {
		langString("keyword", k)
	}
	w.close("general")

	w.open("lifeCycle")
	w.open("version")
	w.leaf("string", strconv.Itoa(rec.Version), "language", "x-none")
	w.close("version")
	vocab("status", "final")
	date := ""
	if !rec.PublishedAt.IsZero() {
		date = rec.PublishedAt.UTC().Format(timeLayout)
	}
	contribute := func(role, fn, org string) {
		w.open("contribute")
		vocab("role", role)
		w.leaf("entity", vcard(fn, org))
		if date != "" {
			w.open("date")
			w.leaf("dateTime", date)
			w.close("date")
		}
		w.close("contribute")
	}
	if c := creator(rec); c != "" {
		contribute("author", c, publisher(rec))
	}
	if p := publisher(rec); p != "" {
		contribute("publisher", p, p)
	}
	w.close("lifeCycle")

	w.open("metaMetadata")
	identifier("oai", d.p.Identifier(rec.ID))
	w.leaf("metadataSchema", lomVocab)
	w.leafIf("language", tag)
	w.close("metaMetadata")

	w.open("technical")
	var size int64
	for _, f := range rec.Files {
		size += f.Size
	}
	for _, f := range mimeTypes(rec.Files) {
		w.leaf("format", f)
	}
	if len(rec.Files) > 0 {
		w.leaf("size", strconv.FormatInt(size, 10))
	}
	w.leaf("location", d.pageURL(rec.ID))
	w.close("technical")

	w.open("educational")
	if t, ok := d.p.tax.Lookup(catalog.FieldType, m.Type); ok && t.LOM != "" {
		vocab("learningResourceType", t.LOM)
	}
	// LOM's vocabulary is coarser than ours (教案 and 学案 are both "narrative text"): our
	// type follows as a value of the taxonomy's own vocabulary, as LOM application profiles do.
	w.open("learningResourceType")
	w.leaf("source", typeVocab)
	w.leaf("value", m.Type)
	w.close("learningResourceType")
	vocab("context", lomContext(m.Stage))
	w.leafIf("language", tag)
	w.close("educational")

	w.open("rights")
	vocab("cost", map[bool]string{true: "no", false: "yes"}[m.Offer.Free()])
	vocab("copyrightAndOtherRestrictions", "yes")
	w.open("description")
	for _, r := range rightsStatements(d.p.tax, m.Offer.License) {
		w.leaf("string", r, "language", "zh")
	}
	w.close("description")
	w.close("rights")

	relation := func(entries ...[2]string) {
		w.open("relation")
		vocab("kind", "isbasedon")
		w.open("resource")
		for _, e := range entries {
			identifier(e[0], e[1])
		}
		w.close("resource")
		w.close("relation")
	}
	for _, p := range rec.Parents {
		relation([2]string{"oai", d.p.Identifier(p.ID)}, [2]string{"URI", d.pageURL(p.ID)})
	}
	if src := rec.Source; src != nil {
		for _, p := range src.Parents {
			relation([2]string{"oai", p})
		}
	}

	path := func(purpose, source string, values ...string) {
		w.open("classification")
		vocab("purpose", purpose)
		w.open("taxonPath")
		w.open("source")
		w.leaf("string", source, "language", "zh")
		w.close("source")
		for _, v := range values {
			w.open("taxon")
			w.leaf("id", v)
			w.open("entry")
			w.leaf("string", v, "language", "zh")
			w.close("entry")
			w.close("taxon")
		}
		w.close("taxonPath")
		w.close("classification")
	}
	if m.Grade != "" {
		path("educational level", labelStage, m.Stage, m.Grade)
	} else {
		path("educational level", labelStage, m.Stage)
	}
	path("discipline", labelSubject, m.Subject)
	for _, c := range []struct{ label, value string }{{labelEdition, m.Edition}, {labelVolume, m.Volume}, {labelChapter, m.Chapter}} {
		if c.value != "" {
			path("discipline", c.label, c.value)
		}
	}
	w.close("lom")
}

// vcard is a LOM entity: a vCard 3.0 with a formatted name and, when known, an organisation.
func vcard(fn, org string) string {
	esc := strings.NewReplacer(`\`, `\\`, ",", `\,`, ";", `\;`, "\n", `\n`, "\r", "")
	var b strings.Builder
	b.WriteString("BEGIN:VCARD\nVERSION:3.0\nFN:" + esc.Replace(fn) + "\nN:" + esc.Replace(fn) + ";;;;\n")
	if org != "" {
		b.WriteString("ORG:" + esc.Replace(org) + "\n")
	}
	b.WriteString("END:VCARD")
	return b.String()
}
