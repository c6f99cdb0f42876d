package files

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
)

// maxPartBytes bounds the small OOXML parts read whole (content types, relationships, the
// presentation's slide list).
const maxPartBytes = 4 << 20

// The main-part content types of the OOXML formats we accept, and of their macro-enabled
// siblings, which we refuse.
var ooxmlMain = map[string]format{
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml":   fmtDOCX,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml":   fmtDOCX,
	"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": fmtPPTX,
	"application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml":    fmtPPTX,
	"application/vnd.openxmlformats-officedocument.presentationml.template.main+xml":     fmtPPTX,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml":         fmtXLSX,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml":      fmtXLSX,
}

var ooxmlMacro = map[string]bool{
	"application/vnd.ms-word.document.macroEnabled.main+xml":           true,
	"application/vnd.ms-word.template.macroEnabledTemplate.main+xml":   true,
	"application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml": true,
	"application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml":    true,
	"application/vnd.ms-powerpoint.template.macroEnabled.main+xml":     true,
	"application/vnd.ms-powerpoint.addin.macroEnabled.main+xml":        true,
	"application/vnd.ms-excel.sheet.macroEnabled.main+xml":             true,
	"application/vnd.ms-excel.template.macroEnabled.main+xml":          true,
	"application/vnd.ms-excel.addin.macroEnabled.main+xml":             true,
	"application/vnd.ms-excel.sheet.binary.macroEnabled.main":          true,
}

// ooxml is an Office Open XML package found inside a ZIP.
type ooxml struct {
	format format
	main   string // the main part's entry name, e.g. word/document.xml
}

// detectOOXML reads [Content_Types].xml: the main part's declared type says which Office format
// a package is. A ZIP without it, or with another main part, is a plain ZIP.
func detectOOXML(ctx context.Context, a *archive) (*ooxml, error) {
	for _, f := range a.zr.File {
		if strings.EqualFold(path.Base(f.Name), "vbaProject.bin") {
			return nil, newError(ReasonMacro, a.upload)
		}
	}
	ct := a.byName["[Content_Types].xml"]
	if ct == nil {
		return nil, nil
	}
	data, err := a.readEntry(ctx, ct, maxPartBytes)
	if err != nil {
		return nil, err
	}
	var types struct {
		Overrides []struct {
			PartName    string `xml:"PartName,attr"`
			ContentType string `xml:"ContentType,attr"`
		} `xml:"Override"`
	}
	if err := xml.Unmarshal(data, &types); err != nil {
		return nil, newError(ReasonCorrupt, a.upload).entry("[Content_Types].xml").cause(err)
	}
	for _, o := range types.Overrides {
		ctype := strings.ToLower(strings.TrimSpace(o.ContentType))
		for macro := range ooxmlMacro {
			if ctype == strings.ToLower(macro) {
				return nil, newError(ReasonMacro, a.upload)
			}
		}
		if f, ok := ooxmlMain[ctype]; ok {
			main := strings.TrimPrefix(o.PartName, "/")
			if a.byName[main] == nil {
				return nil, newError(ReasonCorrupt, a.upload).entry(main).cause(errors.New("main part missing"))
			}
			return &ooxml{format: f, main: main}, nil
		}
	}
	return nil, nil
}

// extractOOXML sends the visible text of a DOCX (body paragraphs), PPTX (slides in
// presentation order) or XLSX (shared strings) to sink.
func extractOOXML(ctx context.Context, a *archive, doc *ooxml, sink *textSink) error {
	switch doc.format.kind {
	case KindDOCX:
		return extractXMLText(ctx, a, a.byName[doc.main], sink)
	case KindPPTX:
		for _, slide := range slideOrder(ctx, a, doc.main) {
			if sink.full() {
				break
			}
			if err := extractXMLText(ctx, a, a.byName[slide], sink); err != nil {
				return err
			}
			sink.WriteString("\n")
		}
		return nil
	case KindXLSX:
		dir := path.Dir(doc.main)
		if f := a.byName[path.Join(dir, "sharedStrings.xml")]; f != nil {
			return extractXMLText(ctx, a, f, sink)
		}
	}
	return nil
}

// extractXMLText walks WordprocessingML or DrawingML and keeps the text runs: t elements hold
// text, tab and br/cr elements spacing, and the end of p (paragraph) or si (shared string) a
// line. Deleted text (delText) and field codes (instrText) are other elements and so skipped.
func extractXMLText(ctx context.Context, a *archive, f *zip.File, sink *textSink) error {
	rc, err := a.open(ctx, f)
	if err != nil {
		return err
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	inText := 0
	for !sink.full() {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				inText++
			case "tab":
				sink.WriteString("\t")
			case "br", "cr":
				sink.WriteString("\n")
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = max(inText-1, 0)
			case "p", "si":
				sink.WriteString("\n")
			}
		case xml.CharData:
			if inText > 0 {
				sink.WriteString(string(t))
			}
		}
	}
	return nil
}

// slideOrder lists a presentation's slides in the order of its slide list; if that cannot be
// read, in the order of their numbers (slide2 before slide10).
func slideOrder(ctx context.Context, a *archive, main string) []string {
	if order := slidesFromPresentation(ctx, a, main); len(order) > 0 {
		return order
	}
	var slides []string
	for name := range a.byName {
		if strings.HasPrefix(name, "ppt/slides/slide") && strings.HasSuffix(name, ".xml") {
			slides = append(slides, name)
		}
	}
	num := func(s string) int {
		n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(s, "ppt/slides/slide"), ".xml"))
		return n
	}
	slices.SortFunc(slides, func(x, y string) int { return num(x) - num(y) })
	return slides
}

func slidesFromPresentation(ctx context.Context, a *archive, main string) []string {
	dir := path.Dir(main)
	relsName := path.Join(dir, "_rels", path.Base(main)+".rels")
	pf, rf := a.byName[main], a.byName[relsName]
	if pf == nil || rf == nil {
		return nil
	}
	pres, err := a.readEntry(ctx, pf, maxPartBytes)
	if err != nil {
		return nil
	}
	rels, err := a.readEntry(ctx, rf, maxPartBytes)
	if err != nil {
		return nil
	}
	var p struct {
		Slides []struct {
			RID string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sldIdLst>sldId"`
	}
	var r struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if xml.NewDecoder(bytes.NewReader(pres)).Decode(&p) != nil || xml.Unmarshal(rels, &r) != nil {
		return nil
	}
	targets := map[string]string{}
	for _, rel := range r.Rels {
		t := rel.Target
		if strings.HasPrefix(t, "/") {
			t = strings.TrimPrefix(t, "/")
		} else {
			t = path.Join(dir, t)
		}
		targets[rel.ID] = t
	}
	var order []string
	seen := map[string]bool{}
	for _, s := range p.Slides {
		t := targets[s.RID]
		if a.byName[t] != nil && !seen[t] {
			seen[t] = true
			order = append(order, t)
		}
	}
	return order
}
