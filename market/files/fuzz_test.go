package files_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"
	"unicode/utf8"

	"ziyuan/market/files"
)

// fuzzInspect runs one upload and checks the invariants that hold for any input: no panic
// (the fuzzer reports it), a refusal is an *Error or nothing else is wrong, an accepted upload
// has a sane description and bounded valid text, and no temporary file outlives it.
func fuzzInspect(t *testing.T, in *files.Inspector, dir, name string, data []byte) {
	u, err := in.Inspect(context.Background(), name, bytes.NewReader(data))
	if err != nil {
		var fe *files.Error
		if !errors.As(err, &fe) {
			t.Fatalf("non-refusal error on in-memory input: %v", err)
		}
		if fe.Chinese() == "" || fe.English() == "" {
			t.Fatal("empty message")
		}
	} else {
		if u.Size != int64(len(data)) || u.MIME == "" || u.Kind == "" || u.Name == "" {
			t.Fatalf("bad upload %+v", u)
		}
		if len(u.Text) > in.Limits().MaxText || !utf8.ValidString(u.Text) {
			t.Fatalf("text of %d bytes, valid %v", len(u.Text), utf8.ValidString(u.Text))
		}
		if err := u.Close(); err != nil {
			t.Fatal(err)
		}
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Fatalf("left %d temporary files", len(left))
	}
}

func fuzzLimits() files.Limits {
	// Small limits keep each run fast while exercising every limit.
	return files.Limits{MaxSize: 4 << 20, MaxText: 64 << 10, MaxEntries: 200, MaxExpanded: 16 << 20,
		RatioFloor: 64 << 10, ExtractTimeout: 2 * time.Second}
}

func FuzzInspectZip(f *testing.F) {
	f.Add(zipOf(f, entry{"a.txt", "hello"}))
	f.Add(zipOf(f, entry{"../x", "y"}))
	f.Add(zipOf(f, entry{"inner.zip", string(zipOf(f, entry{"a", "b"}))}))
	f.Add(docxOf(f, "段落"))
	f.Add(pptxOf(f, "一", "二"))
	f.Add(xlsxOf(f, "单元格"))
	dir := f.TempDir()
	in := files.NewInspector(fuzzLimits(), dir)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzInspect(t, in, dir, "upload.zip", data)
	})
}

// FuzzExtractDOCX mutates the document part of a real DOCX: the XML walk must survive anything.
func FuzzExtractDOCX(f *testing.F) {
	f.Add([]byte(`<w:document ` + wordNS + `><w:body><w:p><w:r><w:t>光合作用</w:t></w:r></w:p></w:body></w:document>`))
	f.Add([]byte(`<w:document><w:p><w:t>x</w:p>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><w:t>&a;&a;</w:t>`))
	dir := f.TempDir()
	in := files.NewInspector(fuzzLimits(), dir)
	f.Fuzz(func(t *testing.T, document []byte) {
		data := zipOf(t,
			entry{"[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`},
			entry{"word/document.xml", string(document)})
		fuzzInspect(t, in, dir, "fuzz.docx", data)
	})
}

func FuzzExtractPDF(f *testing.F) {
	f.Add(pdfChinese(f, "光合作用", "第二课时"))
	f.Add(pdfASCII(f, "Hello"))
	if real, err := os.ReadFile("testdata/fpdf-chinese.pdf"); err == nil {
		f.Add(real)
	}
	f.Add([]byte("%PDF-1.7\n1 0 obj\n<< /Type /XRef /Size 9 /W [1 1 1] /Length 0 >>\nstream\n\nendstream\nendobj\nstartxref\n9\n%%EOF\n"))
	dir := f.TempDir()
	in := files.NewInspector(fuzzLimits(), dir)
	f.Fuzz(func(t *testing.T, data []byte) {
		if !bytes.HasPrefix(data, []byte("%PDF-")) {
			data = append([]byte("%PDF-1.7\n"), data...)
		}
		fuzzInspect(t, in, dir, "fuzz.pdf", data)
	})
}

// FuzzInspect feeds anything under any name.
func FuzzInspect(f *testing.F) {
	f.Add("a.txt", []byte("你好"))
	f.Add("a.md", []byte("# 标题\n```\n<script>\n```\n"))
	f.Add("x.png", pngOf(f))
	f.Add("x.mp3", mp3Of())
	f.Add("x.doc", oleOf("WordDocument"))
	f.Add("x.mp4", isoMediaOf("isom"))
	f.Add("gbk.txt", gb18030(f, "中文"))
	dir := f.TempDir()
	in := files.NewInspector(fuzzLimits(), dir)
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		fuzzInspect(t, in, dir, name, data)
	})
}
