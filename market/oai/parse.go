package oai

import (
	"strings"
	"time"
)

// Reading harvested records. The XML of both formats is flattened into a SourceRecord: the
// strings each field offers, with their labels where the record gives them, so that the mapping
// (mapping.go) works the same on Dublin Core and on LOM.

type recordXML struct {
	Header struct {
		Status     string   `xml:"status,attr"`
		Identifier string   `xml:"identifier"`
		Datestamp  string   `xml:"datestamp"`
		SetSpecs   []string `xml:"setSpec"`
	} `xml:"header"`
	Metadata *struct {
		DC  *dcXML  `xml:"http://www.openarchives.org/OAI/2.0/oai_dc/ dc"`
		LOM *lomXML `xml:"http://ltsc.ieee.org/xsd/LOM lom"`
	} `xml:"metadata"`
}

type dcValue struct {
	Value string `xml:",chardata"`
}

type dcXML struct {
	Title       []dcValue `xml:"http://purl.org/dc/elements/1.1/ title"`
	Creator     []dcValue `xml:"http://purl.org/dc/elements/1.1/ creator"`
	Subject     []dcValue `xml:"http://purl.org/dc/elements/1.1/ subject"`
	Description []dcValue `xml:"http://purl.org/dc/elements/1.1/ description"`
	Publisher   []dcValue `xml:"http://purl.org/dc/elements/1.1/ publisher"`
	Type        []dcValue `xml:"http://purl.org/dc/elements/1.1/ type"`
	Format      []dcValue `xml:"http://purl.org/dc/elements/1.1/ format"`
	Identifier  []dcValue `xml:"http://purl.org/dc/elements/1.1/ identifier"`
	Language    []dcValue `xml:"http://purl.org/dc/elements/1.1/ language"`
	Relation    []dcValue `xml:"http://purl.org/dc/elements/1.1/ relation"`
	Coverage    []dcValue `xml:"http://purl.org/dc/elements/1.1/ coverage"`
	Rights      []dcValue `xml:"http://purl.org/dc/elements/1.1/ rights"`
}

type langStringXML struct {
	Strings []struct {
		Language string `xml:"language,attr"`
		Value    string `xml:",chardata"`
	} `xml:"string"`
}

func (l langStringXML) values() []string {
	var out []string
	for _, s := range l.Strings {
		if v := strings.TrimSpace(s.Value); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (l langStringXML) first() string {
	if v := l.values(); len(v) > 0 {
		return v[0]
	}
	return ""
}

type vocabXML struct {
	Source string `xml:"source"`
	Value  string `xml:"value"`
}

type identifierXML struct {
	Catalog string `xml:"catalog"`
	Entry   string `xml:"entry"`
}

type lomXML struct {
	General struct {
		Identifier  []identifierXML `xml:"identifier"`
		Title       langStringXML   `xml:"title"`
		Language    []string        `xml:"language"`
		Description []langStringXML `xml:"description"`
		Keyword     []langStringXML `xml:"keyword"`
	} `xml:"general"`
	LifeCycle struct {
		Contribute []struct {
			Role   vocabXML `xml:"role"`
			Entity []string `xml:"entity"`
		} `xml:"contribute"`
	} `xml:"lifeCycle"`
	Technical struct {
		Format   []string `xml:"format"`
		Location []string `xml:"location"`
	} `xml:"technical"`
	Educational []struct {
		LearningResourceType []vocabXML `xml:"learningResourceType"`
		Context              []vocabXML `xml:"context"`
		Language             []string   `xml:"language"`
	} `xml:"educational"`
	Rights struct {
		Cost        vocabXML      `xml:"cost"`
		Description langStringXML `xml:"description"`
	} `xml:"rights"`
	Relation []struct {
		Kind     vocabXML `xml:"kind"`
		Resource struct {
			Identifier []identifierXML `xml:"identifier"`
		} `xml:"resource"`
	} `xml:"relation"`
	Classification []struct {
		Purpose   vocabXML `xml:"purpose"`
		TaxonPath []struct {
			Source langStringXML `xml:"source"`
			Taxon  []struct {
				ID    string        `xml:"id"`
				Entry langStringXML `xml:"entry"`
			} `xml:"taxon"`
		} `xml:"taxonPath"`
		Keyword []langStringXML `xml:"keyword"`
	} `xml:"classification"`
}

// SourceRecord is a harvested record before mapping: what each field offers.
type SourceRecord struct {
	Identifier string
	Datestamp  time.Time
	Deleted    bool
	Format     string
	// NoMetadata marks a live record without metadata in a format we read.
	NoMetadata bool

	Titles       []string
	Descriptions []string
	Languages    []string
	// Keywords are free keywords: LOM's, and Dublin Core subjects that are no label.
	Keywords []string
	// Labelled holds values the record names the vocabulary of (学段, 年级, 学科, 教材版本, 册次,
	// 章节), by label.
	Labelled map[string][]string
	// Candidates are other strings that may be vocabulary values (classification entries,
	// coverage, contexts outside LOM's vocabulary).
	Candidates []string
	// Types are resource types: a vocabulary of ours first where given, then the standard ones.
	Types      []string
	Creators   []string
	Publishers []string
	URLs       []string
	Rights     []string
	// Cost is LOM's 6.1 (yes, no), empty when not given.
	Cost    string
	Parents []string
}

// labels maps the labels records use (ours in Chinese, and English ones) onto ours.
var labels = map[string]string{
	labelStage: labelStage, labelGrade: labelGrade, labelSubject: labelSubject, labelEdition: labelEdition,
	labelVolume: labelVolume, labelChapter: labelChapter,
	"stage": labelStage, "grade": labelGrade, "subject": labelSubject, "edition": labelEdition,
	"volume": labelVolume, "chapter": labelChapter,
	"学段与年级": labelStage, "学科分类": labelSubject, "教材": labelEdition,
}

func (r recordXML) source(prefix string) SourceRecord {
	rec := SourceRecord{Identifier: strings.TrimSpace(r.Header.Identifier), Deleted: strings.TrimSpace(r.Header.Status) == "deleted",
		Format: prefix, Labelled: map[string][]string{}}
	ds := strings.TrimSpace(r.Header.Datestamp)
	if t, err := time.Parse(timeLayout, ds); err == nil {
		rec.Datestamp = t
	} else if t, err := time.Parse(dayLayout, ds); err == nil {
		rec.Datestamp = t
	}
	switch {
	case rec.Deleted:
	case r.Metadata != nil && r.Metadata.LOM != nil:
		rec.readLOM(r.Metadata.LOM)
	case r.Metadata != nil && r.Metadata.DC != nil:
		rec.readDC(r.Metadata.DC)
	default:
		rec.NoMetadata = true
	}
	return rec
}

func add(dst *[]string, vs ...string) {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			*dst = append(*dst, v)
		}
	}
}

func dcValues(vs []dcValue) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		add(&out, v.Value)
	}
	return out
}

// splitLabel reads "学段：初中" (or "stage: 初中").
func splitLabel(s string) (label, value string, ok bool) {
	for _, sep := range []string{"：", ":"} {
		if l, v, found := strings.Cut(s, sep); found {
			if lab, known := labels[strings.ToLower(strings.TrimSpace(l))]; known {
				return lab, strings.TrimSpace(v), strings.TrimSpace(v) != ""
			}
		}
	}
	return "", "", false
}

func (rec *SourceRecord) readDC(dc *dcXML) {
	add(&rec.Titles, dcValues(dc.Title)...)
	add(&rec.Descriptions, dcValues(dc.Description)...)
	add(&rec.Languages, dcValues(dc.Language)...)
	for _, s := range dcValues(dc.Subject) {
		if label, v, ok := splitLabel(s); ok {
			rec.Labelled[label] = append(rec.Labelled[label], v)
			continue
		}
		// Some repositories put several subjects into one, separated by semicolons.
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '；' }) {
			add(&rec.Keywords, part)
		}
	}
	add(&rec.Candidates, dcValues(dc.Coverage)...)
	add(&rec.Types, dcValues(dc.Type)...)
	add(&rec.Creators, dcValues(dc.Creator)...)
	add(&rec.Publishers, dcValues(dc.Publisher)...)
	for _, id := range dcValues(dc.Identifier) {
		if isHTTP(id) {
			rec.URLs = append(rec.URLs, id)
		}
	}
	add(&rec.Rights, dcValues(dc.Rights)...)
	for _, rel := range dcValues(dc.Relation) {
		if strings.HasPrefix(rel, "oai:") {
			rec.Parents = append(rec.Parents, rel)
		}
	}
}

func (rec *SourceRecord) readLOM(l *lomXML) {
	add(&rec.Titles, l.General.Title.values()...)
	for _, d := range l.General.Description {
		add(&rec.Descriptions, d.values()...)
	}
	add(&rec.Languages, l.General.Language...)
	for _, k := range l.General.Keyword {
		add(&rec.Keywords, k.first())
	}
	for _, id := range l.General.Identifier {
		if e := strings.TrimSpace(id.Entry); isHTTP(e) {
			rec.URLs = append(rec.URLs, e)
		}
	}
	for _, loc := range l.Technical.Location {
		if loc = strings.TrimSpace(loc); isHTTP(loc) {
			rec.URLs = append(rec.URLs, loc)
		}
	}
	for _, c := range l.LifeCycle.Contribute {
		fn, org := vcardNames(c.Entity)
		switch strings.TrimSpace(c.Role.Value) {
		case "author":
			add(&rec.Creators, fn)
		case "publisher":
			add(&rec.Publishers, cmpOr(org, fn))
		}
	}
	var standard []string
	for _, e := range l.Educational {
		for _, t := range e.LearningResourceType {
			if strings.TrimSpace(t.Source) == lomVocab {
				add(&standard, t.Value)
			} else {
				add(&rec.Types, t.Value)
			}
		}
		for _, c := range e.Context {
			if strings.TrimSpace(c.Source) != lomVocab {
				add(&rec.Candidates, c.Value)
			}
		}
		add(&rec.Languages, e.Language...)
	}
	rec.Types = append(rec.Types, standard...)
	rec.Cost = strings.TrimSpace(l.Rights.Cost.Value)
	add(&rec.Rights, l.Rights.Description.values()...)
	for _, r := range l.Relation {
		if strings.TrimSpace(r.Kind.Value) != "isbasedon" {
			continue
		}
		for _, id := range r.Resource.Identifier {
			if e := strings.TrimSpace(id.Entry); strings.HasPrefix(e, "oai:") {
				rec.Parents = append(rec.Parents, e)
			}
		}
	}
	for _, c := range l.Classification {
		for _, p := range c.TaxonPath {
			label := ""
			for _, s := range p.Source.values() {
				if lab, ok := labels[strings.ToLower(s)]; ok {
					label = lab
				}
			}
			for i, t := range p.Taxon {
				v := cmpOr(t.Entry.first(), strings.TrimSpace(t.ID))
				switch {
				case v == "":
				case label == labelStage && i == 1:
					// A 学段 path continues with the 年级.
					rec.Labelled[labelGrade] = append(rec.Labelled[labelGrade], v)
				case label != "" && i == 0:
					rec.Labelled[label] = append(rec.Labelled[label], v)
				default:
					rec.Candidates = append(rec.Candidates, v)
				}
			}
		}
		for _, k := range c.Keyword {
			add(&rec.Candidates, k.values()...)
		}
	}
}

func isHTTP(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// vcardNames reads FN and ORG from LOM entities (vCards).
func vcardNames(entities []string) (fn, org string) {
	unesc := strings.NewReplacer(`\,`, ",", `\;`, ";", `\n`, "\n", `\N`, "\n", `\\`, `\`)
	for _, e := range entities {
		// vCard lines may be folded: a line starting with a space continues the previous one.
		e = strings.NewReplacer("\r\n ", "", "\n ", "", "\r\n\t", "", "\n\t", "").Replace(e)
		for _, line := range strings.FieldsFunc(e, func(r rune) bool { return r == '\n' || r == '\r' }) {
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			name, _, _ = strings.Cut(strings.ToUpper(strings.TrimSpace(name)), ";")
			switch name {
			case "FN":
				if fn == "" {
					fn = strings.TrimSpace(unesc.Replace(value))
				}
			case "ORG":
				if org == "" {
					// ORG is organisation;unit;…: the first component, up to an unescaped ";".
					first := value
					for i := 0; i < len(value); i++ {
						if value[i] == '\\' {
							i++
						} else if value[i] == ';' {
							first = value[:i]
							break
						}
					}
					org = strings.TrimSpace(unesc.Replace(first))
				}
			}
		}
	}
	return fn, org
}
