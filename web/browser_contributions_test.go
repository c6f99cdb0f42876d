package web_test

import (
	"bytes"
	"context"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserContributionDashboard: an evaluator filters the dashboard, sorts the table and
// sees the charts — in Chromium without JavaScript — and the screenshots show drawn charts.
// With -update the full-page screenshot is kept in testdata for review.
func TestBrowserContributionDashboard(t *testing.T) {
	e := newEnv(t, openDB(t))
	e.contributionFixtures(t)
	base := e.listen(t)
	b := newBrowser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	b.do(chromedp.EmulateViewport(1280, 900))

	b.signIn(base, "wu.evaluator", "/space")
	if st := b.nav(chromedp.Click(css(`nav a[href="/contributions"]`))); st != 200 {
		t.Fatalf("dashboard: %d", st)
	}
	// Filter: September, 实验小学.
	b.do(
		chromedp.SetValue(css(`#f-from`), "2026-09-01"),
		chromedp.SetValue(css(`#f-to`), "2026-10-01"),
		chromedp.SetValue(css(`#f-institution`), e.school),
	)
	if st := b.nav(chromedp.Click(css(`.contrib-filters button[type=submit]`))); st != 200 {
		t.Fatalf("filtering: %d", st)
	}
	if table := b.text(".contrib-table tbody"); !strings.Contains(table, "李老师") || strings.Contains(table, "陈老师") {
		t.Fatalf("filtered to 实验小学: %q", table)
	}
	if summary := b.text(".contrib-summary"); !strings.Contains(summary, "2026-09-01 至 2026-10-01") || !strings.Contains(summary, "被采用 4 次") {
		t.Fatalf("summary %q", summary)
	}
	// All institutions again, then sort by name with the column's link.
	b.do(chromedp.SetValue(css(`#f-institution`), ""))
	b.nav(chromedp.Click(css(`.contrib-filters button[type=submit]`)))
	b.nav(chromedp.Click(css(`th a[href*="sort=name"]`)))
	if rows := b.text(".contrib-table tbody"); strings.Index(rows, "刘老师") > strings.Index(rows, "陈老师") {
		t.Fatalf("sorted by name: %q", rows)
	}
	if sorted := b.attr(`th[aria-sort]`, "aria-sort"); sorted != "ascending" {
		t.Fatalf("aria-sort %q", sorted)
	}
	desc, err := chromedp.Run(b.ctx, chromedp.TextContent(css(`#chart-months-desc`)))
	if err != nil || !strings.Contains(desc, "2026-09：发布 3，采用 4，衍生 1") {
		t.Fatalf("chart description %q", desc)
	}

	b.do(chromedp.ScrollIntoView(css(`#chart-months`)))
	chart := b.shot(chromedp.Screenshot(css(`#chart-months`), chromedp.NodeVisible))
	full := b.shot(chromedp.FullScreenshot(100))
	img, err := png.Decode(bytes.NewReader(chart))
	if err != nil {
		t.Fatalf("chart screenshot: %v", err)
	}
	r := img.Bounds()
	if r.Dx() < 400 || r.Dy() < 150 {
		t.Fatalf("the monthly chart is drawn %dx%d", r.Dx(), r.Dy())
	}
	// The bars: pixels of the three series' colours, and not a blank picture.
	series := []color.RGBA{{0x0b, 0x5c, 0xad, 0xff}, {0xb4, 0x26, 0x1c, 0xff}, {0x1a, 0x7f, 0x37, 0xff}}
	found := make([]int, len(series))
	nonWhite := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if c.R < 240 || c.G < 240 || c.B < 240 {
				nonWhite++
			}
			for i, s := range series {
				if near(c, s) {
					found[i]++
				}
			}
		}
	}
	for i, n := range found {
		if n < 50 {
			t.Errorf("series %d's colour covers %d pixels of the chart: no bar drawn", i, n)
		}
	}
	if nonWhite < r.Dx()*r.Dy()/100 {
		t.Errorf("the chart is nearly blank: %d of %d pixels drawn", nonWhite, r.Dx()*r.Dy())
	}
	page, err := png.Decode(bytes.NewReader(full))
	if err != nil || page.Bounds().Dx() < 1000 || page.Bounds().Dy() < 900 {
		t.Fatalf("full-page screenshot: %v %v", err, page)
	}
	if *update {
		if err := os.WriteFile(filepath.Join("testdata", "contributions_dashboard.png"), full, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The export buttons answer with downloads.
	href := b.attr(`a[href^="/contributions/export?format=xlsx"]`, "href")
	if res, _ := e.browserAs(t, "wu.evaluator").do(t, "GET", href, nil); res.StatusCode != 200 ||
		!strings.Contains(res.Header.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("export button %s: %d", href, res.StatusCode)
	}
}

// shot takes a screenshot.
func (p *page) shot(a chromedp.Action[[]byte]) []byte {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	b, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatal(err)
	}
	return b
}

func near(a, b color.RGBA) bool {
	d := func(x, y uint8) int {
		if x > y {
			return int(x - y)
		}
		return int(y - x)
	}
	return d(a.R, b.R) < 12 && d(a.G, b.G) < 12 && d(a.B, b.B) < 12
}

func (e *env) browserAs(t testing.TB, login string) *browser {
	b := e.browser()
	b.login(t, login)
	return b
}
