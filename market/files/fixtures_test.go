package files_test

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/go-pdf/fpdf"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Small real files, built in code so that every fixture says what it is.

type entry struct {
	name string
	data string
}

// zipOf builds a ZIP with deflated entries.
// zipOf builds a ZIP with deflated entries. t may be nil (in examples); writing to memory
// fails only on a bug.
func zipOf(t testing.TB, entries ...entry) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, e := range entries {
		f, err := w.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Deflate})
		if err != nil {
			panic(err)
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

const wordNS = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`

// docxOf builds a minimal real DOCX (Word opens it) with one paragraph per argument.
func docxOf(t testing.TB, paragraphs ...string) []byte {
	var body strings.Builder
	for _, p := range paragraphs {
		// Split each paragraph over two runs, as Word does at every formatting change.
		half := len([]rune(p)) / 2
		r := []rune(p)
		fmt.Fprintf(&body, `<w:p><w:r><w:t xml:space="preserve">%s</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>%s</w:t></w:r></w:p>`,
			xmlEscape(string(r[:half])), xmlEscape(string(r[half:])))
	}
	// Deleted text in tracked changes is not part of the document.
	body.WriteString(`<w:p><w:del><w:r><w:delText>已删除的文字</w:delText></w:r></w:del></w:p>`)
	return zipOf(t,
		entry{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>`},
		entry{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
		entry{"word/document.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document ` + wordNS + `><w:body>` + body.String() + `</w:body></w:document>`},
	)
}

// pptxOf builds a minimal PPTX whose slide list puts the slides in the given order although the
// part names are numbered the other way round, to prove we follow the list.
func pptxOf(t testing.TB, slides ...string) []byte {
	n := len(slides)
	entries := []entry{}
	var overrides, ids, rels strings.Builder
	for i, s := range slides {
		part := fmt.Sprintf("slide%d.xml", n-i) // first slide stored as the highest number
		fmt.Fprintf(&overrides, `<Override PartName="/ppt/slides/%s" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/>`, part)
		fmt.Fprintf(&ids, `<p:sldId id="%d" r:id="rId%d"/>`, 256+i, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/%s"/>`, i+1, part)
		entries = append(entries, entry{"ppt/slides/" + part, `<?xml version="1.0" encoding="UTF-8"?>
<p:sld xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>` + xmlEscape(s) + `</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`})
	}
	head := []entry{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>` + overrides.String() + `</Types>`},
		{"ppt/presentation.xml", `<?xml version="1.0" encoding="UTF-8"?>
<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><p:sldIdLst>` + ids.String() + `</p:sldIdLst></p:presentation>`},
		{"ppt/_rels/presentation.xml.rels", `<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` + rels.String() + `</Relationships>`},
	}
	return zipOf(t, append(head, entries...)...)
}

// xlsxOf builds a minimal XLSX with the given shared strings.
func xlsxOf(t testing.TB, strs ...string) []byte {
	var si strings.Builder
	for _, s := range strs {
		fmt.Fprintf(&si, "<si><t>%s</t></si>", xmlEscape(s))
	}
	return zipOf(t,
		entry{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`},
		entry{"xl/workbook.xml", `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>`},
		entry{"xl/sharedStrings.xml", `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + si.String() + `</sst>`},
	)
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func pngOf(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegOf(t testing.TB) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gifOf(t testing.TB) []byte {
	var buf bytes.Buffer
	if err := gif.Encode(&buf, image.NewPaletted(image.Rect(0, 0, 2, 2), color.Palette{color.Black, color.White}), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// webpOf is a WebP container holding a (fake) lossy frame: we check the container, not pixels.
func webpOf() []byte {
	frame := []byte("VP8 \x0a\x00\x00\x00\x10\x02\x00\x9d\x01\x2a\x01\x00\x01\x00")
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+len(frame)))
	b.WriteString("WEBP")
	b.Write(frame)
	return b.Bytes()
}

// wavOf is a real PCM WAV of 100 silent samples.
func wavOf() []byte {
	var b bytes.Buffer
	data := make([]byte, 200)
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)})
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

// mp3Of is an ID3v2 tag followed by three MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz).
func mp3Of() []byte {
	var b bytes.Buffer
	b.WriteString("ID3\x03\x00\x00\x00\x00\x00\x0a") // tag of 10 bytes
	b.Write(make([]byte, 10))
	for range 3 {
		frame := make([]byte, 417) // 144*128000/44100
		copy(frame, "\xff\xfb\x90\x00")
		b.Write(frame)
	}
	return b.Bytes()
}

func oggOf() []byte { return append([]byte("OggS\x00\x02"), make([]byte, 60)...) }

func isoMediaOf(brand string) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(24))
	b.WriteString("ftyp" + brand + "\x00\x00\x02\x00" + "isommp41")
	binary.Write(&b, binary.BigEndian, uint32(16))
	b.WriteString("mdat" + "\x00\x01\x02\x03\x04\x05\x06\x07")
	return b.Bytes()
}

func webmOf() []byte {
	return []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02\x18\x53\x80\x67")
}

// oleOf builds a minimal OLE2 compound file (one FAT sector, one directory sector) whose
// directory holds the given stream names, as Word 97 (WordDocument), PowerPoint or an MSI do.
func oleOf(streams ...string) []byte {
	const sector = 512
	hdr := make([]byte, sector)
	copy(hdr, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
	le := binary.LittleEndian
	le.PutUint16(hdr[0x18:], 0x3e)
	le.PutUint16(hdr[0x1a:], 3)
	le.PutUint16(hdr[0x1c:], 0xfffe)
	le.PutUint16(hdr[0x1e:], 9)
	le.PutUint16(hdr[0x20:], 6)
	le.PutUint32(hdr[0x2c:], 1)          // FAT sectors
	le.PutUint32(hdr[0x30:], 1)          // first directory sector
	le.PutUint32(hdr[0x38:], 4096)       // mini stream cutoff
	le.PutUint32(hdr[0x3c:], 0xfffffffe) // no mini FAT
	le.PutUint32(hdr[0x44:], 0xfffffffe) // no DIFAT sectors
	for i := 0; i < 109; i++ {
		le.PutUint32(hdr[0x4c+4*i:], 0xffffffff)
	}
	le.PutUint32(hdr[0x4c:], 0) // FAT in sector 0
	fat := make([]byte, sector)
	for i := 0; i < sector/4; i++ {
		le.PutUint32(fat[4*i:], 0xffffffff)
	}
	le.PutUint32(fat[0:], 0xfffffffd) // sector 0: FAT
	le.PutUint32(fat[4:], 0xfffffffe) // sector 1: directory, end of chain
	dir := make([]byte, sector)
	names := append([]string{"Root Entry"}, streams...)
	for i, n := range names[:min(len(names), 4)] {
		e := dir[128*i : 128*(i+1)]
		u := utf16.Encode([]rune(n))
		for j, c := range u {
			le.PutUint16(e[2*j:], c)
		}
		le.PutUint16(e[64:], uint16(2*len(u)+2))
		e[66] = 2
		if i == 0 {
			e[66] = 5
		}
	}
	return append(append(hdr, fat...), dir...)
}

// pdfASCII is a real PDF written by fpdf (compressed content stream, standard font).
func pdfASCII(t testing.TB, text string) []byte {
	p := fpdf.New("P", "mm", "A4", "")
	p.AddPage()
	p.SetFont("Helvetica", "", 14)
	p.Cell(40, 10, text)
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pdfChinese writes a PDF the way Office and WPS export Chinese text: a Type0 font with
// Identity-H encoding whose 2-byte codes map to Unicode through a ToUnicode CMap, in a
// Flate-compressed content stream. The glyph codes here are the code points themselves (a real
// exporter uses glyph indexes); extraction only reads the CMap, as it must for any PDF.
func pdfChinese(t testing.TB, lines ...string) []byte {
	var content bytes.Buffer
	content.WriteString("BT /F1 14 Tf 72 720 Td\n")
	seen := map[rune]bool{}
	for i, line := range lines {
		if i > 0 {
			content.WriteString("0 -20 Td\n")
		}
		content.WriteString("<")
		for _, r := range line {
			fmt.Fprintf(&content, "%04X", r)
			seen[r] = true
		}
		content.WriteString("> Tj\n")
	}
	content.WriteString("ET\n")
	var cmap strings.Builder
	cmap.WriteString("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def\n1 begincodespacerange <0000> <FFFF> endcodespacerange\n")
	fmt.Fprintf(&cmap, "%d beginbfchar\n", len(seen))
	for r := range seen {
		fmt.Fprintf(&cmap, "<%04X> <%04X>\n", r, r)
	}
	cmap.WriteString("endbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end\n")

	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(content.Bytes())
	zw.Close()

	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", z.Len(), z.String()),
		"<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
		"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor 8 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", cmap.Len(), cmap.String()),
		"<< /Type /FontDescriptor /FontName /SimSun /Flags 6 /FontBBox [0 -141 1000 859] /ItalicAngle 0 /Ascent 859 /Descent -141 /CapHeight 859 /StemV 80 >>",
	}
	return pdfFile(objs)
}

// pdfFile numbers objs from 1 (the first must be the catalog) and writes them with a classic
// cross-reference table.
func pdfFile(objs []string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
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
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

func gb18030(t testing.TB, s string) []byte {
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func utf16LE(s string) []byte {
	b := []byte{0xff, 0xfe}
	for _, c := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}
