package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"ziyuan/market"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
)

func TestErrorTableCoversEveryCode(t *testing.T) {
	seen := map[int]market.Code{}
	for _, code := range market.Codes {
		status, ok := statusOf[code]
		if !ok {
			t.Errorf("code %s has no HTTP status", code)
		}
		if other, dup := seen[status]; dup {
			t.Errorf("codes %s and %s share status %d", code, other, status)
		}
		seen[status] = code
	}
}

var templateKey = regexp.MustCompile(`\.L\.T "([a-z_.]+)"`)

// TestUITextsComplete checks that every text a template asks for exists in both languages.
func TestUITextsComplete(t *testing.T) {
	files, err := filepath.Glob("templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range templateKey.FindAllStringSubmatch(string(b), -1) {
			if _, ok := uiText[m[1]]; !ok {
				t.Errorf("%s uses unknown text %q", f, m[1])
			}
		}
	}
	for key, v := range uiText {
		if v[0] == "" || v[1] == "" {
			t.Errorf("text %q lacks a language", key)
		}
	}
	for _, r := range market.Roles {
		if l := (loc{"zh"}).Role(r); l == "role."+string(r) {
			t.Errorf("role %s has no name", r)
		}
	}
	for _, k := range market.InstitutionKinds {
		if l := (loc{"en"}).Kind(k); l == "kind."+string(k) {
			t.Errorf("kind %s has no name", k)
		}
	}
}

func TestFormatting(t *testing.T) {
	zh, en := loc{"zh"}, loc{"en"}
	cases := []struct{ got, want string }{
		{zh.Num(0), "0"}, {zh.Num(999), "999"}, {zh.Num(1000), "1,000"}, {zh.Num(-1234567), "-1,234,567"},
		{zh.Yuan(0), "¥0.00"}, {zh.Yuan(5), "¥0.05"}, {zh.Yuan(123456), "¥1,234.56"}, {zh.Yuan(-150), "-¥1.50"},
		{zh.T("page.of", 2, 5), "第 2 页，共 5 页"}, {en.T("page.of", 2, 5), "Page 2 of 5"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	cases := map[string]string{
		"/space": "/space", "/admin/audit?page=2": "/admin/audit?page=2", "": "/", "https://evil.example": "/",
		"//evil.example": "/", "/\\evil.example": "/", "javascript:alert(1)": "/", "/a\r\nSet-Cookie: x": "/",
	}
	for in, want := range cases {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzDecodeStrict: whatever the body, decoding gives a value or an invalid/too_large error,
// never a panic and never an internal error.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{`{"login":"a","password":"b"}`, `{"login":5}`, `{"x":1}`, `{`, `[]`, `null`, `{"login":"a"} x`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v struct {
			Login    string   `json:"login"`
			Password string   `json:"password"`
			Tags     []string `json:"tags"`
			N        int      `json:"n"`
		}
		err := decodeStrict(data, &v)
		if err == nil {
			if !json.Valid(data) {
				t.Fatalf("accepted invalid JSON %q", data)
			}
			return
		}
		if code := market.ErrorCode(err); code != market.CodeInvalid {
			t.Fatalf("code %s for %q: %v", code, data, err)
		}
	})
}

func TestPanicsBecomeInternalErrors(t *testing.T) {
	db := storetest.Open(t, store.SQLite, market.Schema())
	s := New(Config{Market: market.New(db, market.Options{Argon2: market.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}}),
		Secret: []byte("0123456789abcdef0123456789abcdef")})
	s.app.Get("/api/v1/boom", func(*fiber.Ctx) error { panic("secret detail") })
	res, err := s.app.Test(httptest.NewRequest("GET", "/api/v1/boom", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 500 || !strings.Contains(string(b), `"code":"internal"`) || strings.Contains(string(b), "secret detail") {
		t.Fatalf("panic answered %d %s", res.StatusCode, b)
	}
	// The server keeps serving.
	res, err = s.app.Test(httptest.NewRequest("GET", "/healthz", nil), -1)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("after a panic: %v %v", res, err)
	}
}

func TestOpenAPIPartsRefuseDuplicates(t *testing.T) {
	if _, err := buildOpenAPI(); err != nil {
		t.Fatalf("the embedded parts do not merge: %v", err)
	}
	dst := map[string]any{"/a": 1}
	if err := mergeMap(dst, map[string]any{"/a": 2}, "paths", "x.json"); err == nil {
		t.Fatal("a path defined twice was merged")
	}
}

// When the database fails in the middle of a signed-in visitor's request, the error page still
// renders, without the visitor's name, instead of an empty 500.
func TestErrorPageWhenTheDatabaseFails(t *testing.T) {
	db := storetest.Open(t, store.SQLite, market.Schema())
	m := market.New(db, market.Options{Argon2: market.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	ctx := context.Background()
	if _, err := m.SeedDemo(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := m.Login(ctx, "li.teacher", market.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Market: m, Secret: []byte("0123456789abcdef0123456789abcdef")})
	tok, _, err := s.tok.issue(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.app.Get("/database-goes-away", func(*fiber.Ctx) error {
		db.Close()
		return market.Internal(errors.New("the query failed"))
	})
	req := httptest.NewRequest("GET", "/database-goes-away", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := s.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	rid := res.Header.Get(fiber.HeaderXRequestID)
	if res.StatusCode != 500 || !strings.Contains(string(b), "</html>") || rid == "" || !strings.Contains(string(b), rid) {
		t.Fatalf("answered %d with %d bytes (request %q): %.300s", res.StatusCode, len(b), rid, b)
	}
}
