package web_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"ziyuan/market"
)

// multipartResource builds a resource creation body: the meta part and named files.
func multipartResource(t testing.TB, meta any, files map[string][]byte) *body {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	m, _ := json.Marshal(meta)
	w.WriteField("meta", string(m))
	for name, data := range files {
		f, err := w.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(data)
	}
	w.Close()
	return &body{w.FormDataContentType(), buf.Bytes()}
}

func zipOf(t testing.TB, entries map[string]io.Reader) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for name, r := range entries {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, r); err != nil {
			t.Fatal(err)
		}
	}
	z.Close()
	return buf.Bytes()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

const lessonMarkdown = "# 光合作用\n\n## 教学目标\n\n1. 理解光合作用的概念。\n2. 说出光合作用的原料、产物和条件。\n\n## 课堂练习\n\n- 绿色植物在光下制造有机物的过程叫什么？\n"

func TestCreateResourceWithFilesAndDownload(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		meta := sampleMeta("光合作用教学设计")
		meta.Stage, meta.Grade, meta.Subject = "初中", "七年级", "生物学"
		var r market.Resource
		decode(t, e.do(t, "POST", "/api/v1/resources", e.tokens["li.teacher"],
			multipartResource(t, meta, map[string][]byte{"光合作用.md": []byte(lessonMarkdown)})), 201, &r)
		if len(r.Files) != 1 || r.Files[0].Name != "光合作用.md" || !strings.HasPrefix(r.Files[0].MIME, "text/markdown") || r.Status != "draft" {
			t.Fatalf("created %+v", r)
		}
		// The owner downloads the draft through a signed link.
		res := e.do(t, "GET", "/api/v1/resources/"+r.ID+"/download", e.tokens["li.teacher"], nil)
		link := res.Header.Get("Location")
		if res.StatusCode != 302 || !strings.HasPrefix(link, "/files/"+r.Files[0].SHA256+"?") {
			t.Fatalf("download: %d %q", res.StatusCode, link)
		}
		got := e.do(t, "GET", link, "", nil)
		data, _ := io.ReadAll(got.Body)
		if got.StatusCode != 200 || string(data) != lessonMarkdown || got.Header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(got.Header.Get("Content-Disposition"), "attachment") ||
			!strings.Contains(got.Header.Get("Content-Disposition"), "UTF-8''%E5%85%89") {
			t.Fatalf("file: %d %q %v", got.StatusCode, data, got.Header)
		}
		// Others may not see the draft; a tampered or expired link is refused.
		wantError(t, e.do(t, "GET", "/api/v1/resources/"+r.ID+"/download", e.tokens["zhang.xiaoming"], nil), 404, "not_found")
		if res := e.do(t, "GET", strings.Replace(link, "n=", "n=x", 1), "", nil); res.StatusCode != 403 {
			t.Fatalf("tampered link: %d", res.StatusCode)
		}
		e.clock.Advance(6 * time.Minute)
		if res := e.do(t, "GET", link, "", nil); res.StatusCode != 403 {
			t.Fatalf("expired link: %d", res.StatusCode)
		}
	})
}

// TestHostileUploads sends what an attacker would and checks each gets a clear error and
// leaves no resource, no stored blob and no temporary file behind.
func TestHostileUploads(t *testing.T) {
	e := newEnv(t, openDB(t))
	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), bytes.Repeat([]byte{0}, 200)...)
	pe := append([]byte("MZ\x90\x00\x03\x00\x00\x00"), bytes.Repeat([]byte{0}, 200)...)
	cases := []struct {
		name   string
		file   string
		data   []byte
		status int
		says   string
	}{
		{"zip slip", "课件.zip", zipOf(t, map[string]io.Reader{"../../evil.sh": strings.NewReader("rm -rf /")}), 400, "evil.sh"},
		{"zip bomb", "素材.zip", zipOf(t, map[string]io.Reader{"zeros.txt": io.LimitReader(zeros{}, 200<<20)}), 400, "zeros.txt"},
		{"nested archive", "打包.zip", zipOf(t, map[string]io.Reader{"inner.zip": bytes.NewReader(zipOf(t, map[string]io.Reader{"a.txt": strings.NewReader("a")}))}), 400, "inner.zip"},
		{"renamed executable", "lesson.pdf", elf, 415, "lesson.pdf"},
		{"windows program as docx", "教案.docx", pe, 415, "教案.docx"},
		{"empty file", "空.txt", nil, 400, "空.txt"},
		{"over the limit", "大文件.txt", bytes.Repeat([]byte("练习题"), 1<<19), 413, "大文件.txt"},
		{"html with script", "page.txt", []byte("<html><script>alert(1)</script></html>"), 415, "page.txt"},
	}
	countResources := func() int64 {
		var n int64
		e.db.Raw("SELECT COUNT(*) FROM resources").Scan(&n)
		return n
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, blobs := countResources(), e.BlobCount(t)
			res := e.do(t, "POST", "/api/v1/resources", e.tokens["li.teacher"],
				multipartResource(t, sampleMeta("恶意上传"), map[string][]byte{c.file: c.data, "ok.md": []byte(lessonMarkdown)}))
			got := wantError(t, res, c.status, map[int]string{400: "invalid", 413: "too_large", 415: "unsupported_media_type"}[c.status])
			if !strings.Contains(got.Error.Message, c.says) {
				t.Errorf("message %q does not name %q", got.Error.Message, c.says)
			}
			if countResources() != before || e.BlobCount(t) != blobs {
				t.Errorf("a refused upload left rows or blobs behind")
			}
			if left, _ := os.ReadDir(e.TmpDir); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
	// A path in the name is dropped, never followed.
	var r market.Resource
	decode(t, e.do(t, "POST", "/api/v1/resources", e.tokens["li.teacher"],
		multipartResource(t, sampleMeta("名字里的路径"), map[string][]byte{"../../etc/passwd": []byte("root:x:0:0:root:/root:/bin/bash\n")})), 201, &r)
	if len(r.Files) != 1 || strings.ContainsAny(r.Files[0].Name, "/\\") || strings.HasPrefix(r.Files[0].Name, ".") {
		t.Fatalf("stored name %q", r.Files[0].Name)
	}
	// A bad meta part refuses the request before any file is kept.
	bad := multipartResource(t, map[string]any{"title": 5}, map[string][]byte{"a.md": []byte(lessonMarkdown)})
	wantError(t, e.do(t, "POST", "/api/v1/resources", e.tokens["li.teacher"], bad), 400, "invalid")
	req := httptest.NewRequest("POST", "/api/v1/resources", strings.NewReader("x"))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+e.tokens["li.teacher"])
	res, _ := e.srv.App().Test(req, -1)
	wantError(t, res, http.StatusUnsupportedMediaType, "unsupported_media_type")
}
