package files_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"ziyuan/market/files"
)

func TestSafeName(t *testing.T) {
	long := strings.Repeat("长", 100) + ".pptx" // 300 bytes of stem
	tests := []struct{ in, want string }{
		{"../../etc/passwd", "passwd"},
		{`..\..\windows\system32\cmd.exe`, "cmd.exe"},
		{`C:\Users\老师\Desktop\第一课 教案.docx`, "第一课 教案.docx"},
		{"课件.pptx", "课件.pptx"},
		{".htaccess", "htaccess"},
		{"...", "file"},
		{"", "file"},
		{"/", "file"},
		{"a\x00b\x1fc\x7f.txt", "abc.txt"},
		{"lesson\u202Etxt.exe", "lessontxt.exe"},
		{"zero\u200bwidth.md", "zerowidth.md"},
		{`what?<is>"this"|*:.txt`, "what__is__this____.txt"},
		{"CON.txt", "_CON.txt"},
		{"nul", "_nul"},
		{"com1.tar.gz", "_com1.tar.gz"},
		{"LPT9", "_LPT9"},
		{"console.txt", "console.txt"},
		{"trailing. . ", "trailing"},
		{"tab\tand\nnewline.txt", "tabandnewline.txt"},
		{"全角\u3000空格  多个.txt", "全角 空格 多个.txt"},
		{"e\u0301.txt", "é.txt"},
		{"bad\xff\xfeutf8.txt", "badutf8.txt"},
		{".pdf", "pdf"},
	}
	for _, tt := range tests {
		if got := files.SafeName(tt.in); got != tt.want {
			t.Errorf("SafeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	got := files.SafeName(long)
	if len(got) > files.MaxNameBytes || !strings.HasSuffix(got, ".pptx") || !utf8.ValidString(got) || !strings.HasPrefix(got, "长长") {
		t.Errorf("long name sanitised to %q (%d bytes)", got, len(got))
	}
}

func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"../../etc/passwd", `C:\a\b.txt`, "课件.pptx", "CON", ".", "a\u202eb", strings.Repeat("长", 90) + ".docx", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := files.SafeName(in)
		if got == "" || len(got) > files.MaxNameBytes || !utf8.ValidString(got) {
			t.Fatalf("SafeName(%q) = %q", in, got)
		}
		if strings.ContainsAny(got, "/\\<>:\"|?*") || strings.HasPrefix(got, ".") || strings.HasSuffix(got, ".") ||
			strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") {
			t.Fatalf("SafeName(%q) = %q has unsafe characters", in, got)
		}
		for _, r := range got {
			if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("SafeName(%q) = %q keeps %U", in, got, r)
			}
		}
		base, _, _ := strings.Cut(strings.ToUpper(got), ".")
		switch base {
		case "CON", "PRN", "AUX", "NUL", "COM1", "LPT1":
			t.Fatalf("SafeName(%q) = %q is a device name", in, got)
		}
		if again := files.SafeName(got); again != got {
			t.Fatalf("not idempotent: %q → %q → %q", in, got, again)
		}
	})
}
