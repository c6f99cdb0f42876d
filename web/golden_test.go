package web_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

var (
	uuidPattern  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	tokenPattern = regexp.MustCompile(`(name="_csrf" value="|name="csrf-token" content=")[^"]+"`)
)

// scrub replaces what differs between runs (IDs, tokens) with fixed marks.
func scrub(page string) string {
	page = uuidPattern.ReplaceAllString(page, "<id>")
	return tokenPattern.ReplaceAllString(page, `${1}<csrf>"`)
}

// TestPagesGolden renders the main pages for fixed data and a fixed clock and compares them
// with the files under testdata/golden (go test ./web -run Golden -update rewrites them).
func TestPagesGolden(t *testing.T) {
	e := newEnv(t, openDB(t))
	cases := []struct {
		name, login, lang, path string
	}{
		{"home_zh", "", "zh", "/"},
		{"login_zh", "", "zh", "/login"},
		{"login_en", "", "en", "/login"},
		{"space_teacher_zh", "li.teacher", "zh", "/space"},
		{"space_teacher_en", "li.teacher", "en", "/space"},
		{"space_parent_zh", "zhang.parent", "zh", "/space"},
		{"space_child_zh", "zhang.xiaohong", "zh", "/space"},
		{"space_unverified_zh", "new.teacher", "zh", "/space"},
		{"institution_zh", "zhongxue.admin", "zh", "/admin/institution"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := e.browser()
			if c.login != "" {
				b.login(t, c.login)
			}
			b.cookies["lang"] = c.lang
			res, page := b.do(t, "GET", c.path, nil)
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			got := []byte(scrub(page))
			file := filepath.Join("testdata", "golden", c.name+".html")
			if *update {
				os.MkdirAll(filepath.Dir(file), 0o755)
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file; run go test ./web -run Golden -update and review the diff:\n%s", c.path, firstDiff(string(want), string(got)))
			}
		})
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return ""
}
