package web_test

import (
	"context"
	"encoding/json"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ziyuan/market"
)

// hostileTitle would end the script element and run code if the JSON-LD were not escaped.
const hostileTitle = `</script><script>alert("x")</script><!-- & "引号" 勾股定理`

var ldPattern = regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)

type ldDoc struct {
	Context              string   `json:"@context"`
	Type                 string   `json:"@type"`
	ID                   string   `json:"@id"`
	Identifier           []string `json:"identifier"`
	Name                 string   `json:"name"`
	Description          string   `json:"description"`
	InLanguage           string   `json:"inLanguage"`
	Keywords             []string `json:"keywords"`
	LearningResourceType []string `json:"learningResourceType"`
	EducationalLevel     []struct {
		Name  string `json:"name"`
		InSet string `json:"inDefinedTermSet"`
	} `json:"educationalLevel"`
	About []struct {
		Name string `json:"name"`
	} `json:"about"`
	License             json.RawMessage `json:"license"`
	IsAccessibleForFree bool            `json:"isAccessibleForFree"`
	Author              struct {
		Type        string `json:"@type"`
		Name        string `json:"name"`
		Affiliation struct {
			Name string `json:"name"`
		} `json:"affiliation"`
	} `json:"author"`
	DateCreated    string   `json:"dateCreated"`
	DatePublished  string   `json:"datePublished"`
	EncodingFormat []string `json:"encodingFormat"`
	IsBasedOn      []struct {
		ID   string `json:"@id"`
		Name string `json:"name"`
	} `json:"isBasedOn"`
	Offers []struct {
		Price    string `json:"price"`
		Currency string `json:"priceCurrency"`
	} `json:"offers"`
}

// pageLD fetches a resource page anonymously and returns its JSON-LD, checking that the page
// holds exactly one data block and that nothing broke out of it.
func pageLD(t *testing.T, e *env, id string) ldDoc {
	t.Helper()
	// httptest requests go to example.com, which the page takes as the site's address.
	res := e.do(t, "GET", "/resources/"+id, "", nil)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("resource page: %d", res.StatusCode)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("CSP changed: %q", csp)
	}
	page := string(b)
	blocks := ldPattern.FindAllStringSubmatch(page, -1)
	if len(blocks) != 1 || strings.Count(page, "<script") != 1 || strings.Contains(page, `<script>alert`) {
		t.Fatalf("%d JSON-LD blocks, %d script tags:\n%s", len(blocks), strings.Count(page, "<script"), page)
	}
	var ld ldDoc
	if err := json.Unmarshal([]byte(blocks[0][1]), &ld); err != nil {
		t.Fatalf("JSON-LD: %v\n%s", err, blocks[0][1])
	}
	return ld
}

// TestResourcePagesCarryLRMI checks the schema.org LearningResource of resource pages: the fields
// of issue 8, a hostile title kept inside the data block, isBasedOn for derivatives, offers for
// paid items.
func TestResourcePagesCarryLRMI(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		meta := sampleMeta(hostileTitle)
		meta.Keywords = []string{"勾股定理", "</script>"}
		lesson := e.publishNow(t, "li.teacher", meta)
		ld := pageLD(t, e, lesson)
		levels := []string{}
		for _, l := range ld.EducationalLevel {
			levels = append(levels, l.InSet+":"+l.Name)
		}
		var license string
		json.Unmarshal(ld.License, &license)
		if ld.Context != "https://schema.org" || ld.Type != "LearningResource" || ld.ID != "http://example.com/resources/"+lesson ||
			ld.Name != hostileTitle || ld.Description != "示例教案" || ld.InLanguage != "zh" ||
			!slices.Equal(ld.Keywords, meta.Keywords) || !slices.Equal(ld.LearningResourceType, []string{"LessonPlan", "教案"}) ||
			!slices.Equal(levels, []string{"学段:初中", "年级:八年级"}) || len(ld.About) != 1 || ld.About[0].Name != "数学" ||
			license != "https://creativecommons.org/licenses/by/4.0/" || !ld.IsAccessibleForFree ||
			ld.Author.Type != "Person" || ld.Author.Name != "李老师" || ld.Author.Affiliation.Name != "北京市海淀区实验小学" ||
			ld.DateCreated == "" || ld.DatePublished == "" || !slices.Equal(ld.EncodingFormat, []string{"text/plain"}) ||
			!slices.Contains(ld.Identifier, "oai:ziyuan.local:"+lesson) || len(ld.Offers) != 0 || len(ld.IsBasedOn) != 0 {
			t.Errorf("lesson JSON-LD: %+v", ld)
		}
		if _, err := time.Parse(time.RFC3339, ld.DateCreated); err != nil {
			t.Errorf("dateCreated %q", ld.DateCreated)
		}

		der := sampleMeta("改编的教案")
		der.Parents = []string{lesson}
		derived := e.publishNow(t, "chen.teacher", der)
		if ld := pageLD(t, e, derived); len(ld.IsBasedOn) != 1 || ld.IsBasedOn[0].ID != "http://example.com/resources/"+lesson || ld.IsBasedOn[0].Name != hostileTitle {
			t.Errorf("derivative isBasedOn: %+v", ld.IsBasedOn)
		}

		paid := sampleMeta("精品习题")
		paid.Offer = market.Offer{License: "paid", Prices: &market.Prices{Personal: 990, Institution: 50000}}
		item := e.publishNow(t, "xuehai.vendor", paid)
		ld = pageLD(t, e, item)
		var lic struct{ Type, Name string }
		json.Unmarshal(ld.License, &lic)
		if ld.IsAccessibleForFree || len(ld.Offers) != 2 || ld.Offers[0].Price != "9.90" || ld.Offers[1].Price != "500.00" ||
			ld.Offers[0].Currency != "CNY" || lic.Name != "付费授权" {
			t.Errorf("paid JSON-LD: %+v %+v", ld.Offers, lic)
		}
	})
}

// TestBrowserResourcePageJSONLD loads a resource page with a hostile title in headless Chromium
// with JavaScript on: the data block parses in the browser, nothing runs, and the console (where
// Content Security Policy violations are reported) stays quiet.
func TestBrowserResourcePageJSONLD(t *testing.T) {
	path := chromium(t)
	e := newEnv(t, openDB(t))
	id := e.publishAs(t, "li.teacher", sampleMeta(hostileTitle))
	base := e.listen(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	defer func() { cancelCtx(); cancelAlloc() }()
	if err := chromedp.Do(ctx); err != nil { // starts the browser, without a timeout
		t.Fatalf("start Chromium: %v", err)
	}
	cctx, stopConsole := context.WithCancel(ctx)
	var mu sync.Mutex
	var console []string
	messages := chromedp.Console(cctx)
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for m, err := range messages {
			if err != nil {
				return
			}
			if strings.HasSuffix(m.URL, "/favicon.ico") {
				continue // the browser asks for an icon the site does not have
			}
			mu.Lock()
			console = append(console, m.String())
			mu.Unlock()
		}
	}()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := chromedp.RunResponse(tctx, chromedp.Navigate(base+"/resources/"+id))
	if err != nil || res.Status != 200 {
		t.Fatalf("resource page: %v %v", res, err)
	}
	name, err := chromedp.Run(tctx, chromedp.Evaluate[string](`JSON.parse(document.querySelector('script[type="application/ld+json"]').textContent).name`))
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := chromedp.Run(tctx, chromedp.Evaluate[int](`document.scripts.length`))
	if err != nil {
		t.Fatal(err)
	}
	heading, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	// A probe shows that the console is really listened to.
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`console.error("probe"), true`)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		seen := slices.ContainsFunc(console, func(s string) bool { return strings.Contains(s, "probe") })
		mu.Unlock()
		if seen {
			break
		}
	}
	stopConsole()
	<-collected
	var others []string
	for _, m := range console {
		if !strings.Contains(m, "probe") {
			others = append(others, m)
		}
	}
	if name != hostileTitle || strings.TrimSpace(heading) != hostileTitle || scripts != 1 || len(others) > 0 || len(console) == 0 {
		t.Fatalf("in the browser: name %q, h1 %q, %d scripts, console %q", name, heading, scripts, console)
	}
}
