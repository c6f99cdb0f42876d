package files_test

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
	"testing"
	"time"

	"ziyuan/market/files"
)

// zlibStream wraps a raw DEFLATE stream as PDF's FlateDecode expects (zlib framing). The
// Adler-32 trailer is left wrong: a parse that reads to the end is itself the failure.
func zlibStream(raw []byte) []byte {
	return append(append([]byte{0x78, 0x9c}, raw...), 0, 0, 0, 0)
}

func pdfWithContent(content []byte, filter string, extra ...string) []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d %s >>\nstream\n%s\nendstream", len(content), filter, content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	return pdfFile(append(objs, extra...))
}

// TestHostilePDFs: each file attacks a weakness found in the upstream parser. Each upload is a
// PDF, so it is accepted; what matters is that the parse ends soon, without panicking or eating
// memory, and reports why the text is missing.
func TestHostilePDFs(t *testing.T) {
	// A ToUnicode map claiming 10^11 mappings (upstream appended that many entries).
	cmapBomb := pdfFile([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		"<< /Length 23 >>\nstream\nBT /F1 12 Tf <0041> Tj ET\nendstream",
		"<< /Type /Font /Subtype /Type0 /Encoding /Identity-H /ToUnicode 6 0 R >>",
		"<< /Length 80 >>\nstream\n1 begincodespacerange <0000> <FFFF> endcodespacerange 99999999999 beginbfchar endbfchar\nendstream",
	})
	// A page tree whose kids are itself.
	cycle := pdfFile([]string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [2 0 R] /Count 3 >>",
	})
	// 1 GiB of one string inside a content stream (about 1 MiB compressed).
	bomb, _ := deflateRepeat(t, "BT /F1 12 Tf (", "a", 1<<30, ") Tj ET")
	stringBomb := pdfWithContent(zlibStream(bomb), "/Filter /FlateDecode")
	// 1 GiB of "1 " operands: the operand stack, not one token, grows.
	opBomb, _ := deflateRepeat(t, "BT ", "1 ", 1<<30, "ET")
	operandBomb := pdfWithContent(zlibStream(opBomb), "/Filter /FlateDecode")
	// Unterminated hex string at the end of a content stream (upstream spun forever).
	hexEOF := pdfWithContent([]byte("BT /F1 12 Tf <4142"), "")
	// An xref stream with W [0 0 0] and an absurd Size.
	xrefW := []byte("%PDF-1.7\n1 0 obj\n<< /Type /XRef /Size 1099511627776 /W [0 0 0] /Length 0 >>\nstream\n\nendstream\nendobj\nstartxref\n9\n%%EOF\n")

	tests := []struct {
		name    string
		data    []byte
		wantErr string // in TextErr; "" for none
	}{
		{"cmap-bomb.pdf", cmapBomb, ""},
		{"cycle.pdf", cycle, ""},
		{"string-bomb.pdf", stringBomb, "token longer than"},
		{"operand-bomb.pdf", operandBomb, "operand stack deeper than"},
		{"hex-eof.pdf", hexEOF, ""},
		{"xref-w.pdf", xrefW, "out of range"},
		{"truncated.pdf", pdfChinese(t, "截断")[:300], "EOF"},
		{"header-only.pdf", []byte("%PDF-1.4\n"), "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			u, err := inspect(t, tt.name, tt.data, files.Limits{ExtractTimeout: 10 * time.Second})
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tt.wantErr == "" && u.TextErr != nil || tt.wantErr != "" && (u.TextErr == nil || !strings.Contains(u.TextErr.Error(), tt.wantErr)) {
				t.Errorf("TextErr = %v, want %q", u.TextErr, tt.wantErr)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v", took)
			}
			if u.Kind != files.KindPDF {
				t.Errorf("kind %q", u.Kind)
			}
			t.Logf("text %q, TextErr %v, %v", trim(u.Text), u.TextErr, time.Since(start))
		})
	}
}

func trim(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// TestPDFTextBoundedAndLinesJoined: text stops at MaxText, and fragments of one line written as
// separate text objects are joined without spaces between Chinese characters.
func TestPDFTextBoundedAndLinesJoined(t *testing.T) {
	var content bytes.Buffer
	content.WriteString("BT /F1 12 Tf 72 700 Td (Hello) Tj ET BT /F1 12 Tf 110 700 Td (world) Tj ET\n")
	for i := range 2000 {
		fmt.Fprintf(&content, "BT /F1 12 Tf 72 %d Td (line %d) Tj ET\n", 680-i, i)
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(content.Bytes())
	zw.Close()
	data := pdfWithContent(z.Bytes(), "/Filter /FlateDecode")
	u, err := inspect(t, "lines.pdf", data, files.Limits{MaxText: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.Text, "Hello world\nline 0\nline 1\n") || len(u.Text) > 1000 || !u.TextTruncated {
		t.Errorf("text %q (%d bytes), truncated %v", trim(u.Text), len(u.Text), u.TextTruncated)
	}

	zh := pdfChinese(t, "光合", "作用")
	u, err = inspect(t, "zh.pdf", zh, files.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if u.Text != "光合\n作用" {
		t.Errorf("text %q", u.Text)
	}
}
