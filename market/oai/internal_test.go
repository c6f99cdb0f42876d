package oai

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"ziyuan/catalog"
)

func TestLicenseFrom(t *testing.T) {
	for in, want := range map[string]string{
		"https://creativecommons.org/licenses/by-nc-sa/4.0/":       "cc-by-nc-sa",
		"CC BY 4.0 http://creativecommons.org/licenses/by/3.0/cn/": "cc-by",
		"https://creativecommons.org/publicdomain/zero/1.0/":       "public",
		"cc-by-nd：署名-禁止演绎（CC BY-ND 4.0）":                           "cc-by-nd",
		"public：公益（Public welfare (free)）":                         "public",
		"公益资源，免费使用":                                                "public",
		"付费资源":                                                     "paid",
		"paid：付费授权":                                                "paid",
		"版权所有":                                                     "",
	} {
		got, ok := licenseFrom(in)
		if got != want || ok != (want != "") {
			t.Errorf("licenseFrom(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestResourceTypeVocabularies(t *testing.T) {
	mp := Mapper{Taxonomy: catalog.DefaultTaxonomy()}
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"Text", "学案"}, "学案"},     // ours wins over the coarser vocabularies
		{[]string{"narrative text"}, "教案"}, // LOM
		{[]string{"Assessment"}, "试卷"},     // LRMI
		{[]string{"Image"}, "素材"},          // DCMI
		{[]string{"Lesson plan"}, "教案"},    // the taxonomy's English label
		{[]string{"Text", "Dataset"}, ""},  // says too little
	} {
		got, ok := mp.resourceType(c.in)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("resourceType(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "5": 5 * time.Second, "0": time.Second, "86400": maxRetryAfter, "soon": 0,
		"Thu, 01 Oct 2026 00:00:30 GMT": 30 * time.Second,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestVCardNames(t *testing.T) {
	fn, org := vcardNames([]string{vcard("张, 三;", "实验\\小学;一分校")})
	if fn != "张, 三;" || org != "实验\\小学;一分校" {
		t.Errorf("vcard round trip: %q %q", fn, org)
	}
}

// TestNoFiber keeps Fiber in web: this package serves web and the command line alike.
func TestNoFiber(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "ziyuan/market/oai").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/gofiber/") || dep == "ziyuan/web" {
			t.Errorf("market/oai depends on %s", dep)
		}
	}
}
