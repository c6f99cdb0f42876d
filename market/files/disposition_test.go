package files_test

import (
	"mime"
	"strings"
	"testing"

	"ziyuan/market/files"
)

// checkAttachment asserts what must hold for any name: the header value is one line of
// printable ASCII, a standard parser reads it as an attachment, and the UTF-8 filename it
// carries is the name itself.
func checkAttachment(t *testing.T, name string) string {
	t.Helper()
	h := files.Attachment(name)
	for i := 0; i < len(h); i++ {
		if h[i] < 0x20 || h[i] > 0x7e {
			t.Fatalf("Attachment(%q) = %q: byte %#x at %d is not printable ASCII", name, h, h[i], i)
		}
	}
	disp, params, err := mime.ParseMediaType(h)
	if err != nil {
		t.Fatalf("Attachment(%q) = %q does not parse: %v", name, h, err)
	}
	// mime.ParseMediaType prefers the decoded filename* over the ASCII fallback.
	if want := strings.ToValidUTF8(name, "\uFFFD"); disp != "attachment" || params["filename"] != want {
		t.Fatalf("Attachment(%q) = %q parses as %q %q", name, h, disp, params)
	}
	return h
}

func TestAttachment(t *testing.T) {
	tests := []struct {
		name     string
		fallback string // the ASCII filename="…" for old clients
	}{
		{"lesson.pdf", "lesson.pdf"},
		{"光合作用.md", "____.md"},
		{`say "hi".txt`, "say _hi_.txt"},
		{`a\b/c.txt`, "a_b_c.txt"},
		{"line\r\nContent-Type: text/html\r\n\r\n<script>.txt", "line__Content-Type: text_html____<script>.txt"},
		{"a=b;c:d@e,f 'g' (h)*%.txt", "a=b;c:d@e,f 'g' (h)*%.txt"},
		{"tab\there\x00nul\x7fdel.txt", "tab_here_nul_del.txt"},
		{"\xff\xfebad utf-8.txt", "_bad utf-8.txt"},
		{"", ""},
		{strings.Repeat("很长的文件名", 100) + ".docx", strings.Repeat("______", 100) + ".docx"},
	}
	for _, tt := range tests {
		t.Run(tt.fallback, func(t *testing.T) {
			h := checkAttachment(t, tt.name)
			if !strings.HasPrefix(h, `attachment; filename="`+tt.fallback+`"; filename*=UTF-8''`) {
				t.Errorf("Attachment(%q) = %q, want the fallback %q", tt.name, h, tt.fallback)
			}
		})
	}
	// The exact encoding of a Chinese name, as browsers expect it.
	if got, want := files.Attachment("光合 作用.md"), `attachment; filename="__ __.md"; filename*=UTF-8''%E5%85%89%E5%90%88%20%E4%BD%9C%E7%94%A8.md`; got != want {
		t.Errorf("Attachment = %q, want %q", got, want)
	}
}

func FuzzAttachment(f *testing.F) {
	for _, s := range []string{"课件.pptx", `"quoted"`, "new\nline", "../../etc/passwd", "a=b", "\xff", strings.Repeat("长", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		checkAttachment(t, name)
		checkAttachment(t, files.SafeName(name))
	})
}
