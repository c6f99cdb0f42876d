package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"ziyuan/market/files"
)

// inspect runs Inspect in a fresh temporary directory and fails the test if a temporary file is
// left behind on refusal.
func inspect(t *testing.T, name string, data []byte, lim files.Limits) (*files.Upload, error) {
	t.Helper()
	dir := t.TempDir()
	u, err := files.Inspect(context.Background(), name, bytes.NewReader(data), lim, dir)
	if err != nil {
		assertEmptyDir(t, dir)
		return nil, err
	}
	t.Cleanup(func() {
		if err := u.Close(); err != nil {
			t.Error(err)
		}
		assertEmptyDir(t, dir)
	})
	return u, nil
}

func assertEmptyDir(t testing.TB, dir string) {
	t.Helper()
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left behind in %s: %s", dir, e.Name())
	}
}

func TestInspectAccepts(t *testing.T) {
	realPDF, err := os.ReadFile("testdata/fpdf-chinese.pdf")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		data     []byte
		wantName string
		wantKind files.Kind
		wantMIME string
		wantText []string // substrings of the extracted text, in order
	}{
		{"课件.docx", docxOf(t, "第一章 光合作用", "植物利用光能制造有机物。"), "课件.docx", files.KindDOCX,
			"application/vnd.openxmlformats-officedocument.wordprocessingml.document", []string{"第一章 光合作用\n", "植物利用光能制造有机物。"}},
		{"二次函数.pptx", pptxOf(t, "二次函数的图像", "顶点与对称轴", "课堂练习"), "二次函数.pptx", files.KindPPTX,
			"application/vnd.openxmlformats-officedocument.presentationml.presentation", []string{"二次函数的图像", "顶点与对称轴", "课堂练习"}},
		{"成绩.xlsx", xlsxOf(t, "姓名", "语文"), "成绩.xlsx", files.KindXLSX,
			"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", []string{"姓名\n语文"}},
		{"教案.md", []byte("# 勾股定理\n\n**直角三角形**两直角边的平方和等于斜边的平方。\n\n- [练习](https://example.com/x)\n\n```go\nfmt.Println(\"<script>\")\n```\n"),
			"教案.md", files.KindMarkdown, "text/markdown; charset=utf-8", []string{"勾股定理\n", "直角三角形两直角边的平方和等于斜边的平方。", "练习\n", `fmt.Println("<script>")`}},
		{"说明.txt", []byte("\ufeff春眠不觉晓，\r\n处处闻啼鸟。\r\n"), "说明.txt", files.KindText, "text/plain; charset=utf-8", []string{"春眠不觉晓，\n处处闻啼鸟。"}},
		{"gbk.txt", gb18030(t, "床前明月光，疑是地上霜。"), "gbk.txt", files.KindText, "text/plain; charset=gb18030", []string{"床前明月光，疑是地上霜。"}},
		{"unicode.txt", utf16LE("举头望明月"), "unicode.txt", files.KindText, "text/plain; charset=utf-16", []string{"举头望明月"}},
		{"notes", []byte("plain notes\n"), "notes.txt", files.KindText, "text/plain; charset=utf-8", []string{"plain notes"}},
		{"hello.py", []byte("#!/usr/bin/env python3\nprint('你好')\n"), "hello.py", files.KindText, "text/plain; charset=utf-8", []string{"print('你好')"}},
		{"english.pdf", pdfASCII(t, "Photosynthesis lesson plan"), "english.pdf", files.KindPDF, "application/pdf", []string{"Photosynthesis lesson plan"}},
		{"光合作用.pdf", pdfChinese(t, "光合作用教案", "第二课时"), "光合作用.pdf", files.KindPDF, "application/pdf", []string{"光合作用教案", "第二课时"}},
		{"物态变化.pdf", realPDF, "物态变化.pdf", files.KindPDF, "application/pdf",
			[]string{"八年级上册 物理 第三章 物态变化\n第1节 温度\n教学目标：理解温度的概念，会用温度计测量温度。", "Lesson plan, Grade 8 physics"}},
		{"图.png", pngOf(t), "图.png", files.KindImage, "image/png", nil},
		{"photo.jpeg", jpegOf(t), "photo.jpeg", files.KindImage, "image/jpeg", nil},
		{"photo-named-png.png", jpegOf(t), "photo-named-png.png", files.KindImage, "image/jpeg", nil},
		{"anim.gif", gifOf(t), "anim.gif", files.KindImage, "image/gif", nil},
		{"pic.webp", webpOf(), "pic.webp", files.KindImage, "image/webp", nil},
		{"朗读", mp3Of(), "朗读.mp3", files.KindAudio, "audio/mpeg", nil},
		{"a.wav", wavOf(), "a.wav", files.KindAudio, "audio/wav", nil},
		{"a.ogg", oggOf(), "a.ogg", files.KindAudio, "audio/ogg", nil},
		{"a.m4a", isoMediaOf("M4A "), "a.m4a", files.KindAudio, "audio/mp4", nil},
		{"generic-brand.m4a", isoMediaOf("isom"), "generic-brand.m4a", files.KindAudio, "audio/mp4", nil},
		{"微课.mp4", isoMediaOf("isom"), "微课.mp4", files.KindVideo, "video/mp4", nil},
		{"clip.webm", webmOf(), "clip.webm", files.KindVideo, "video/webm", nil},
		{"旧教案.doc", oleOf("WordDocument", "1Table"), "旧教案.doc", files.KindDOC, "application/msword", nil},
		{"old.ppt", oleOf("PowerPoint Document", "Current User"), "old.ppt", files.KindPPT, "application/vnd.ms-powerpoint", nil},
		{"old.xls", oleOf("Workbook"), "old.xls", files.KindXLS, "application/vnd.ms-excel", nil},
		{"资料包.zip", zipOf(t, entry{"教案/第一课.txt", "内容"}, entry{"课件/第一课.docx", string(docxOf(t, "x"))}), "资料包.zip", files.KindZIP, "application/zip", []string{"教案/第一课.txt\n课件/第一课.docx"}},
		{"../../etc/passwd", []byte("root:x:0:0:root:/root:/bin/bash\n"), "passwd.txt", files.KindText, "text/plain; charset=utf-8", []string{"root:x:0:0"}},
		{`C:\Users\老师\Desktop\期末试卷.pdf`, pdfASCII(t, "Final exam"), "期末试卷.pdf", files.KindPDF, "application/pdf", []string{"Final exam"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := inspect(t, tt.name, tt.data, files.Limits{})
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			sum := sha256.Sum256(tt.data)
			if u.Name != tt.wantName || u.Kind != tt.wantKind || u.MIME != tt.wantMIME ||
				u.Size != int64(len(tt.data)) || u.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("got name %q kind %q mime %q size %d sum %s; want %q %q %q %d",
					u.Name, u.Kind, u.MIME, u.Size, u.SHA256, tt.wantName, tt.wantKind, tt.wantMIME, len(tt.data))
			}
			rest := u.Text
			for _, want := range tt.wantText {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("text %q lacks %q (in order); TextErr %v", u.Text, want, u.TextErr)
				}
				rest = rest[i+len(want):]
			}
			if len(tt.wantText) > 0 && u.TextErr != nil {
				t.Errorf("TextErr = %v", u.TextErr)
			}
			f, err := u.Open()
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(f)
			f.Close()
			if !bytes.Equal(got, tt.data) {
				t.Error("Open returns other bytes than uploaded")
			}
		})
	}
}

func TestInspectDeletedAndMarkupTextIsDropped(t *testing.T) {
	u, err := inspect(t, "a.docx", docxOf(t, "保留"), files.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(u.Text, "已删除") {
		t.Errorf("deleted text extracted: %q", u.Text)
	}
	u, err = inspect(t, "a.md", []byte("## 标题 ##\n> 引用\n| 列一 | 列二 |\n|---|:-:|\n| 甲 | 乙 |\n![图](a.png)\n<div>块</div>\n"), files.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, markup := range []string{"#", ">", "|", "---", "](", "<div"} {
		if strings.Contains(u.Text, markup) {
			t.Errorf("markup %q left in %q", markup, u.Text)
		}
	}
	for _, word := range []string{"标题", "引用", "列一", "乙", "图", "块"} {
		if !strings.Contains(u.Text, word) {
			t.Errorf("word %q lost from %q", word, u.Text)
		}
	}
}

func TestInspectTextLimit(t *testing.T) {
	data := []byte(strings.Repeat("汉字", 100)) // 600 bytes
	u, err := inspect(t, "long.txt", data, files.Limits{MaxText: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Text) > 100 || !u.TextTruncated || !strings.HasPrefix(string(data), u.Text) || len(u.Text) < 97 {
		t.Errorf("text of %d bytes, truncated %v", len(u.Text), u.TextTruncated)
	}
	u, err = inspect(t, "long.docx", docxOf(t, string(data)), files.Limits{MaxText: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Text) > 100 || !u.TextTruncated {
		t.Errorf("docx text of %d bytes, truncated %v", len(u.Text), u.TextTruncated)
	}
}

func TestInspectRefuses(t *testing.T) {
	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 120)...)
	pe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), make([]byte, 200)...)
	tests := []struct {
		name   string
		data   []byte
		lim    files.Limits
		want   *files.Error
		class  files.Class
		zhPart string // a part of the Chinese message
	}{
		{"空.txt", nil, files.Limits{}, files.ErrEmpty, files.ClassInvalid, "文件“空.txt”是空的"},
		{"big.txt", bytes.Repeat([]byte("a"), 1025), files.Limits{MaxSize: 1024}, files.ErrTooLarge, files.ClassTooLarge, "1 KiB"},
		{"lesson.pdf", elf, files.Limits{}, files.ErrExecutable, files.ClassUnsupported, "可执行程序"},
		{"课件.docx", pe, files.Limits{}, files.ErrExecutable, files.ClassUnsupported, "可执行程序"},
		{"setup.exe", []byte("hello"), files.Limits{}, files.ErrExtension, files.ClassUnsupported, "“.exe”"},
		{"page.txt", []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"), files.Limits{}, files.ErrScript, files.ClassUnsupported, "脚本"},
		{"note.txt", []byte("see below\n<ScRiPt src=x></script>"), files.Limits{}, files.ErrScript, files.ClassUnsupported, "脚本"},
		{"readme.md", []byte("# hi\n<script>steal()</script>\n"), files.Limits{}, files.ErrScript, files.ClassUnsupported, "脚本"},
		{"drawing.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), files.Limits{}, files.ErrScript, files.ClassUnsupported, "脚本"},
		{"image.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), files.Limits{}, files.ErrExtension, files.ClassUnsupported, ".svg"},
		{"cat.png", []byte("#!/bin/sh\nrm -rf /\n"), files.Limits{}, files.ErrExecutable, files.ClassUnsupported, "可执行程序"},
		{"notes.pdf", []byte("just text\n"), files.Limits{}, files.ErrMismatch, files.ClassUnsupported, "纯文本，与扩展名不符"},
		{"archive.docx", zipOf(t, entry{"a.txt", "x"}), files.Limits{}, files.ErrMismatch, files.ClassUnsupported, "ZIP 压缩包"},
		{"fake.png", []byte("\x89PNG\r\n\x1a\ngarbage garbage garbage"), files.Limits{}, files.ErrCorrupt, files.ClassInvalid, "已损坏"},
		{"noise.mp3", append([]byte("\xff\xfb\x90\x00"), make([]byte, 50)...), files.Limits{}, files.ErrType, files.ClassUnsupported, "不受支持"},
		{"data.bin", []byte{0, 1, 2, 3, 4, 5}, files.Limits{}, files.ErrType, files.ClassUnsupported, "不受支持"},
		{"latin1.txt", []byte("caf\xe9 \xff\xfe\xfd"), files.Limits{}, files.ErrEncoding, files.ClassUnsupported, "GB18030"},
		{"a.rar", []byte("Rar!\x1a\x07\x01\x00rest"), files.Limits{}, files.ErrType, files.ClassUnsupported, "RAR"},
		{"installer.doc", oleOf("\u4840\u3f3f\u4577", "\x05SummaryInformation"), files.Limits{}, files.ErrType, files.ClassUnsupported, "OLE2"},
		{"macro.doc", oleOf("WordDocument", "Macros"), files.Limits{}, files.ErrMacro, files.ClassUnsupported, "包含宏"},
		{"secret.docx", oleOf("EncryptionInfo", "EncryptedPackage"), files.Limits{}, files.ErrEncrypted, files.ClassInvalid, "已加密"},
		{"video.mov", isoMediaOf("qt  "), files.Limits{}, files.ErrType, files.ClassUnsupported, "QuickTime"},
		{"macro.pptx", zipOf(t, entry{"[Content_Types].xml", `<Types/>`}, entry{"ppt/vbaProject.bin", "x"}), files.Limits{}, files.ErrMacro, files.ClassUnsupported, "包含宏"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := inspect(t, tt.name, tt.data, tt.lim)
			assertRefused(t, err, tt.want, tt.class, tt.zhPart)
		})
	}
}

func assertRefused(t *testing.T, err error, want *files.Error, class files.Class, zhPart string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want reason %s", err, want.Reason)
	}
	var fe *files.Error
	if !errors.As(err, &fe) {
		t.Fatalf("%T is not a *files.Error", err)
	}
	if c, ok := files.ClassOf(err); !ok || c != class || fe.Class != class {
		t.Errorf("class %q, want %q", c, class)
	}
	zh, en := fe.Chinese(), fe.English()
	if !strings.Contains(zh, zhPart) {
		t.Errorf("Chinese message %q lacks %q", zh, zhPart)
	}
	if strings.Contains(zh, "%!") || strings.Contains(en, "%!") || en == "" || fe.Name == "" || !strings.Contains(zh, fe.Name) {
		t.Errorf("bad messages: zh %q en %q", zh, en)
	}
}

func TestInspectHonoursContext(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := files.Inspect(ctx, "a.txt", strings.NewReader("hello"), files.Limits{}, dir)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if _, ok := files.ClassOf(err); ok {
		t.Error("a cancelled upload is not the uploader's fault")
	}
	assertEmptyDir(t, dir)
}

// failingReader breaks mid-upload, like a client that disconnects.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n > 0 {
		f.n--
		return copy(p, "abcdefgh"), nil
	}
	return 0, io.ErrUnexpectedEOF
}

func TestInspectBrokenBodyLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	_, err := files.Inspect(context.Background(), "a.txt", &failingReader{n: 3}, files.Limits{}, dir)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("got %v", err)
	}
	assertEmptyDir(t, dir)
}

func TestUploadStoreAndClose(t *testing.T) {
	dir := t.TempDir()
	data := docxOf(t, "存储测试")
	u, err := files.Inspect(context.Background(), "store.docx", bytes.NewReader(data), files.Limits{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := files.NewLocalBlobs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := u.Store(ctx, blobs); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if err := u.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := u.Open(); err == nil {
		t.Error("Open after Close succeeded")
	}
	assertEmptyDir(t, dir)
	rc, err := blobs.Open(ctx, u.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	if !bytes.Equal(got, data) {
		t.Error("stored blob differs")
	}
}

func TestErrorMessagesComplete(t *testing.T) {
	for _, r := range files.Reasons() {
		for _, entry := range []string{"", "../evil.sh"} {
			e := &files.Error{Reason: r, Name: "课件.zip", Entry: entry, Limit: "100:1", Detail: "PDF"}
			for _, lang := range []string{"zh", "en"} {
				msg := e.Text(lang)
				if msg == "" || strings.Contains(msg, "%!") || !strings.Contains(msg, "课件.zip") {
					t.Errorf("%s/%s entry %q: %q", r, lang, entry, msg)
				}
			}
			if e.Chinese() == e.English() {
				t.Errorf("%s: Chinese and English messages are the same", r)
			}
		}
	}
	e := &files.Error{Reason: files.ReasonZipSlip, Name: "课件.zip", Entry: "../../evil.sh"}
	if got, want := e.Chinese(), "文件“课件.zip”中的条目“../../evil.sh”试图写到解压目录之外。"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
