package market

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestMessageNounsInChinese(t *testing.T) {
	tests := []struct {
		m      Message
		zh, en string
	}{
		{Message{MsgNotFound, []any{"resource"}}, "未找到资源。", "resource not found."},
		{Message{MsgNotFound, []any{"payment provider"}}, "未找到在线支付服务。", "payment provider not found."},
		{Message{MsgNotFound, []any{"nonce-42"}}, "未找到nonce-42。", "nonce-42 not found."},
	}
	for _, tt := range tests {
		if got := tt.m.Text("zh-CN"); got != tt.zh {
			t.Errorf("zh: %q, want %q", got, tt.zh)
		}
		if got := tt.m.Text("en"); got != tt.en {
			t.Errorf("en: %q, want %q", got, tt.en)
		}
	}
	// Every noun this package passes to MsgNotFound has its Chinese name.
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	uses := regexp.MustCompile(`MsgNotFound, "([^"]+)"`)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range uses.FindAllStringSubmatch(string(src), -1) {
			seen++
			if _, ok := nounsZH[m[1]]; !ok {
				t.Errorf("%s: MsgNotFound with %q, which has no Chinese name in nounsZH", f, m[1])
			}
		}
	}
	if seen < 10 {
		t.Fatalf("found only %d uses of MsgNotFound; the pattern no longer matches the code", seen)
	}
}
