package demodata

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// fileTime is the modification time written into every generated ZIP entry, so that the same
// content always gives the same bytes.
var fileTime = time.Date(2026, 2, 16, 8, 0, 0, 0, time.UTC)

// section is a heading and its lines, the shape every generated document is written from.
type section struct {
	heading string
	lines   []string
}

type zipEntry struct{ name, data string }

// deflater is the one compressor every generated package uses, reset for each entry: a new
// flate writer per entry (archive/zip's pool is emptied by every GC, and by the race detector
// at random) allocates and clears a megabyte each time. BestSpeed resets cheaply.
var deflater struct {
	sync.Mutex
	w *flate.Writer
}

// zipOf writes entries in the order given.
func zipOf(entries []zipEntry) []byte {
	deflater.Lock()
	defer deflater.Unlock()
	if deflater.w == nil {
		deflater.w, _ = flate.NewWriter(io.Discard, flate.BestSpeed) // a valid level never fails
	}
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	w.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		deflater.w.Reset(out)
		return deflater.w, nil
	})
	for _, e := range entries {
		f, err := w.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: fileTime})
		if err != nil {
			panic(err) // writing to memory cannot fail
		}
		if _, err := f.Write([]byte(e.data)); err != nil {
			panic(err)
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func xmlText(s string) string { return xmlEscaper.Replace(s) }

const (
	xmlHeader  = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	relsNS     = "http://schemas.openxmlformats.org/package/2006/relationships"
	relOffice  = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
	relCore    = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
	officeRels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	ctRels     = `<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>`
	ctXML      = `<Default Extension="xml" ContentType="application/xml"/>`
	ctCore     = `<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>`
)

// coreXML is the package's core properties: title, author and fixed dates.
func coreXML(title, author string) string {
	date := fileTime.Format(time.RFC3339)
	return xmlHeader + `<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" ` +
		`xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" ` +
		`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
		`<dc:title>` + xmlText(title) + `</dc:title><dc:creator>` + xmlText(author) + `</dc:creator>` +
		`<dc:language>zh-CN</dc:language>` +
		`<dcterms:created xsi:type="dcterms:W3CDTF">` + date + `</dcterms:created>` +
		`<dcterms:modified xsi:type="dcterms:W3CDTF">` + date + `</dcterms:modified>` +
		`</cp:coreProperties>`
}

func rootRels(main string) string {
	return xmlHeader + `<Relationships xmlns="` + relsNS + `">` +
		`<Relationship Id="rId1" Type="` + relOffice + `" Target="` + main + `"/>` +
		`<Relationship Id="rId2" Type="` + relCore + `" Target="docProps/core.xml"/>` +
		`</Relationships>`
}

// docx builds a minimal WordprocessingML package that Word, WPS and LibreOffice open: the
// content types, the package relationships, core properties and word/document.xml. Headings
// are bold, larger runs (no styles part is needed for that).
func docx(title, author string, secs []section) []byte {
	var body strings.Builder
	run := func(text string, size int, bold bool) {
		body.WriteString(`<w:p>`)
		if size >= 32 {
			body.WriteString(`<w:pPr><w:jc w:val="center"/></w:pPr>`)
		}
		body.WriteString(`<w:r><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:eastAsia="宋体"/>`)
		if bold {
			body.WriteString(`<w:b/>`)
		}
		fmt.Fprintf(&body, `<w:sz w:val="%d"/><w:lang w:val="en-US" w:eastAsia="zh-CN"/></w:rPr><w:t xml:space="preserve">%s</w:t></w:r></w:p>`, size, xmlText(text))
	}
	run(title, 36, true)
	for _, s := range secs {
		if s.heading != "" {
			run(s.heading, 28, true)
		}
		for _, l := range s.lines {
			run(l, 22, false)
		}
	}
	doc := xmlHeader + `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" ` +
		`xmlns:r="` + officeRels + `"><w:body>` + body.String() +
		`<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1800" w:bottom="1440" w:left="1800" w:header="851" w:footer="992" w:gutter="0"/></w:sectPr>` +
		`</w:body></w:document>`
	types := xmlHeader + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` + ctRels + ctXML +
		`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>` +
		ctCore + `</Types>`
	return zipOf([]zipEntry{
		{"[Content_Types].xml", types},
		{"_rels/.rels", rootRels("word/document.xml")},
		{"docProps/core.xml", coreXML(title, author)},
		{"word/document.xml", doc},
	})
}

const (
	nsA = "http://schemas.openxmlformats.org/drawingml/2006/main"
	nsP = "http://schemas.openxmlformats.org/presentationml/2006/main"
	// pptxNS declares the namespaces of every PresentationML part.
	pptxNS        = `xmlns:a="` + nsA + `" xmlns:r="` + officeRels + `" xmlns:p="` + nsP + `"`
	emptyTree     = `<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/><a:chOff x="0" y="0"/><a:chExt cx="0" cy="0"/></a:xfrm></p:grpSpPr>`
	relSlide      = officeRels + "/slide"
	relLayout     = officeRels + "/slideLayout"
	relMaster     = officeRels + "/slideMaster"
	relTheme      = officeRels + "/theme"
	ctSlide       = "application/vnd.openxmlformats-officedocument.presentationml.slide+xml"
	slideMaster   = xmlHeader + `<p:sldMaster ` + pptxNS + `><p:cSld><p:bg><p:bgRef idx="1001"><a:schemeClr val="bg1"/></p:bgRef></p:bg><p:spTree>` + emptyTree + `</p:spTree></p:cSld><p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" accent3="accent3" accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" folHlink="folHlink"/><p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst></p:sldMaster>`
	slideLayout   = xmlHeader + `<p:sldLayout ` + pptxNS + ` type="blank" preserve="1"><p:cSld name="Blank"><p:spTree>` + emptyTree + `</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>`
	masterRels    = xmlHeader + `<Relationships xmlns="` + relsNS + `"><Relationship Id="rId1" Type="` + relLayout + `" Target="../slideLayouts/slideLayout1.xml"/><Relationship Id="rId2" Type="` + relTheme + `" Target="../theme/theme1.xml"/></Relationships>`
	layoutRels    = xmlHeader + `<Relationships xmlns="` + relsNS + `"><Relationship Id="rId1" Type="` + relMaster + `" Target="../slideMasters/slideMaster1.xml"/></Relationships>`
	slideRels     = xmlHeader + `<Relationships xmlns="` + relsNS + `"><Relationship Id="rId1" Type="` + relLayout + `" Target="../slideLayouts/slideLayout1.xml"/></Relationships>`
	themeFill     = `<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>`
	themeLine     = `<a:ln w="9525"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln>`
	themeEffect   = `<a:effectStyle><a:effectLst/></a:effectStyle>`
	themeFontLang = `<a:latin typeface="Calibri"/><a:ea typeface="等线"/><a:cs typeface=""/>`
	theme         = xmlHeader + `<a:theme xmlns:a="` + nsA + `" name="Ziyuan"><a:themeElements>` +
		`<a:clrScheme name="Ziyuan"><a:dk1><a:sysClr val="windowText" lastClr="000000"/></a:dk1><a:lt1><a:sysClr val="window" lastClr="FFFFFF"/></a:lt1>` +
		`<a:dk2><a:srgbClr val="1F3A5F"/></a:dk2><a:lt2><a:srgbClr val="EEF2F6"/></a:lt2><a:accent1><a:srgbClr val="2E7D5B"/></a:accent1>` +
		`<a:accent2><a:srgbClr val="C0504D"/></a:accent2><a:accent3><a:srgbClr val="9BBB59"/></a:accent3><a:accent4><a:srgbClr val="8064A2"/></a:accent4>` +
		`<a:accent5><a:srgbClr val="4BACC6"/></a:accent5><a:accent6><a:srgbClr val="F79646"/></a:accent6><a:hlink><a:srgbClr val="0563C1"/></a:hlink>` +
		`<a:folHlink><a:srgbClr val="954F72"/></a:folHlink></a:clrScheme>` +
		`<a:fontScheme name="Ziyuan"><a:majorFont>` + themeFontLang + `</a:majorFont><a:minorFont>` + themeFontLang + `</a:minorFont></a:fontScheme>` +
		`<a:fmtScheme name="Ziyuan"><a:fillStyleLst>` + themeFill + themeFill + themeFill + `</a:fillStyleLst>` +
		`<a:lnStyleLst>` + themeLine + themeLine + themeLine + `</a:lnStyleLst>` +
		`<a:effectStyleLst>` + themeEffect + themeEffect + themeEffect + `</a:effectStyleLst>` +
		`<a:bgFillStyleLst>` + themeFill + themeFill + themeFill + `</a:bgFillStyleLst></a:fmtScheme>` +
		`</a:themeElements><a:objectDefaults/><a:extraClrSchemeLst/></a:theme>`
)

// pptxSlide is one slide: a title and bullet lines.
type pptxSlide struct {
	title string
	lines []string
}

// pptx builds a PresentationML package with one slide master, one blank layout and a theme
// (what PowerPoint needs to open a file), and one slide per pptxSlide with a title box and a
// text box of bullet paragraphs, 16:9.
func pptx(title, author string, slides []pptxSlide) []byte {
	var overrides, ids, rels strings.Builder
	rels.WriteString(`<Relationship Id="rId1" Type="` + relMaster + `" Target="slideMasters/slideMaster1.xml"/>`)
	rels.WriteString(`<Relationship Id="rId2" Type="` + relTheme + `" Target="theme/theme1.xml"/>`)
	var parts []zipEntry
	for i, s := range slides {
		n := i + 1
		fmt.Fprintf(&overrides, `<Override PartName="/ppt/slides/slide%d.xml" ContentType="%s"/>`, n, ctSlide)
		fmt.Fprintf(&ids, `<p:sldId id="%d" r:id="rId%d"/>`, 255+n, n+2)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%s" Target="slides/slide%d.xml"/>`, n+2, relSlide, n)
		parts = append(parts,
			zipEntry{fmt.Sprintf("ppt/slides/slide%d.xml", n), slideXML(s, i == 0)},
			zipEntry{fmt.Sprintf("ppt/slides/_rels/slide%d.xml.rels", n), slideRels})
	}
	types := xmlHeader + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` + ctRels + ctXML +
		`<Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>` +
		`<Override PartName="/ppt/slideMasters/slideMaster1.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slideMaster+xml"/>` +
		`<Override PartName="/ppt/slideLayouts/slideLayout1.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slideLayout+xml"/>` +
		`<Override PartName="/ppt/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/>` +
		overrides.String() + ctCore + `</Types>`
	pres := xmlHeader + `<p:presentation ` + pptxNS + ` saveSubsetFonts="1">` +
		`<p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>` +
		`<p:sldIdLst>` + ids.String() + `</p:sldIdLst>` +
		`<p:sldSz cx="12192000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/></p:presentation>`
	entries := []zipEntry{
		{"[Content_Types].xml", types},
		{"_rels/.rels", rootRels("ppt/presentation.xml")},
		{"docProps/core.xml", coreXML(title, author)},
		{"ppt/presentation.xml", pres},
		{"ppt/_rels/presentation.xml.rels", xmlHeader + `<Relationships xmlns="` + relsNS + `">` + rels.String() + `</Relationships>`},
		{"ppt/slideMasters/slideMaster1.xml", slideMaster},
		{"ppt/slideMasters/_rels/slideMaster1.xml.rels", masterRels},
		{"ppt/slideLayouts/slideLayout1.xml", slideLayout},
		{"ppt/slideLayouts/_rels/slideLayout1.xml.rels", layoutRels},
		{"ppt/theme/theme1.xml", theme},
	}
	return zipOf(append(entries, parts...))
}

// slideXML writes a slide: the title box on top (centred and larger on the cover slide) and
// the lines below it.
func slideXML(s pptxSlide, cover bool) string {
	var b strings.Builder
	b.WriteString(xmlHeader + `<p:sld ` + pptxNS + `><p:cSld><p:spTree>` + emptyTree)
	titleY, titleSize, algn := 365760, 3200, "l"
	if cover {
		titleY, titleSize, algn = 2286000, 4000, "ctr"
	}
	box := func(id int, name string, y, cy int, paras []string, size int, bold bool, algn string) {
		fmt.Fprintf(&b, `<p:sp><p:nvSpPr><p:cNvPr id="%d" name="%s"/><p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr>`, id, name)
		fmt.Fprintf(&b, `<p:spPr><a:xfrm><a:off x="685800" y="%d"/><a:ext cx="10820400" cy="%d"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/></p:spPr>`, y, cy)
		b.WriteString(`<p:txBody><a:bodyPr wrap="square" rtlCol="0"><a:normAutofit/></a:bodyPr><a:lstStyle/>`)
		for _, p := range paras {
			fmt.Fprintf(&b, `<a:p><a:pPr algn="%s"/><a:r><a:rPr lang="zh-CN" altLang="en-US" sz="%d"`, algn, size)
			if bold {
				b.WriteString(` b="1"`)
			}
			fmt.Fprintf(&b, ` dirty="0"/><a:t>%s</a:t></a:r></a:p>`, xmlText(p))
		}
		b.WriteString(`</p:txBody></p:sp>`)
	}
	box(2, "Title 1", titleY, 1143000, []string{s.title}, titleSize, true, algn)
	if len(s.lines) > 0 {
		y := 1600200
		if cover {
			y = 3611880
		}
		box(3, "Text 2", y, 6400800-y, s.lines, 2000, false, algn)
	}
	b.WriteString(`</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>`)
	return b.String()
}

// markdown writes a Markdown document: an H1 title, then H2 sections.
func markdown(title string, secs []section) []byte {
	var b strings.Builder
	b.WriteString("# " + title + "\n")
	for _, s := range secs {
		b.WriteString("\n")
		if s.heading != "" {
			b.WriteString("## " + s.heading + "\n\n")
		}
		for _, l := range s.lines {
			b.WriteString(l + "\n")
		}
	}
	return []byte(b.String())
}

// pdfDoc writes a PDF 1.4 file by hand: catalog, page tree, A4 pages whose uncompressed content
// streams show the lines in Helvetica (WinAnsiEncoding, one of the 14 standard fonts, so no font
// is embedded), an Info dictionary, the cross-reference table and the trailer. Text must be
// printable ASCII: the standard fonts have no Chinese glyphs.
func pdfDoc(title string, secs []section) []byte {
	type line struct {
		text string
		bold bool
		size int
	}
	lines := []line{{title, true, 16}, {"", false, 11}}
	for _, s := range secs {
		if s.heading != "" {
			lines = append(lines, line{s.heading, true, 12})
		}
		for _, l := range s.lines {
			for _, w := range wrapASCII(l, 88) {
				lines = append(lines, line{w, false, 11})
			}
		}
		lines = append(lines, line{"", false, 11})
	}
	for _, l := range lines {
		for _, r := range l.text {
			if r < 0x20 || r > 0x7e {
				panic(fmt.Sprintf("demodata: PDF text must be printable ASCII: %q", l.text))
			}
		}
	}
	const perPage = 48
	var pages [][]line
	for len(lines) > 0 {
		n := min(perPage, len(lines))
		pages = append(pages, lines[:n])
		lines = lines[n:]
	}
	// Objects: 1 catalog, 2 pages, 3 Helvetica, 4 Helvetica-Bold, 5 info, then a page and its
	// content stream for each page.
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"", // the page tree, filled in below
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
		"<< /Title " + pdfString(title) + " /Producer (Ziyuan demodata) /CreationDate (D:20260216080000Z) >>",
	}
	var kids []string
	for _, pg := range pages {
		pageObj, contentObj := len(objs)+1, len(objs)+2
		kids = append(kids, fmt.Sprintf("%d 0 R", pageObj))
		var c strings.Builder
		c.WriteString("BT\n56 790 Td\n")
		for i, l := range pg {
			font := "F1"
			if l.bold {
				font = "F2"
			}
			if i > 0 {
				c.WriteString("0 -15 Td\n")
			}
			if l.text != "" {
				fmt.Fprintf(&c, "/%s %d Tf\n%s Tj\n", font, l.size, pdfString(l.text))
			}
		}
		c.WriteString("ET\n")
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>", contentObj),
			fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", c.Len(), c.String()))
	}
	objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// pdfString is a PDF literal string with its delimiters and backslashes escaped.
func pdfString(s string) string {
	return "(" + strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(s) + ")"
}

// wrapASCII breaks a line at spaces into lines of at most width bytes (a longer word stays whole).
func wrapASCII(s string, width int) []string {
	if len(s) <= width {
		return []string{s}
	}
	var out []string
	cur := ""
	for _, w := range strings.Fields(s) {
		switch {
		case cur == "":
			cur = w
		case len(cur)+1+len(w) <= width:
			cur += " " + w
		default:
			out = append(out, cur)
			cur = "   " + w
		}
	}
	return append(out, cur)
}
