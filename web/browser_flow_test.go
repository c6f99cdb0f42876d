package web_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ziyuan/market"
)

// signIn signs the browser in as login, starting from any page, and lands on next.
func (p *page) signIn(base, login, next string) { p.signInWith(base, login, market.DemoPassword, next) }

func (p *page) signInWith(base, login, password, next string) {
	p.t.Helper()
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	p.nav(chromedp.Navigate(base + "/login?next=" + next))
	p.do(chromedp.SendKeys(css(`#login`), login), chromedp.SendKeys(css(`#password`), password))
	p.nav(chromedp.Click(css(`form[action="/login"] button[type=submit]`)))
}

func (p *page) signOut() {
	p.t.Helper()
	p.nav(chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
}

// location returns the current URL's path and query.
func (p *page) location() string {
	p.t.Helper()
	loc, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		p.t.Fatal(err)
	}
	return loc
}

// TestBrowserPublishReviewClaimDeriveComplain walks the marketplace's main flow in headless
// Chromium without JavaScript: a teacher publishes with a file, a reviewer approves, a student
// claims, a second teacher derives, and an upheld complaint takes the derivative down.
func TestBrowserPublishReviewClaimDeriveComplain(t *testing.T) {
	e := newEnv(t, openDB(t))
	base := e.listen(t)
	b := newBrowser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	lesson := filepath.Join(t.TempDir(), "光合作用.md")
	if err := os.WriteFile(lesson, []byte(lessonMarkdown), 0o600); err != nil {
		t.Fatal(err)
	}
	fill := func(title, license string) {
		b.do(
			chromedp.SendKeys(css(`#title`), title),
			chromedp.SendKeys(css(`#summary`), "理解光合作用的原料、产物和条件，完成课堂探究。"),
			chromedp.SendKeys(css(`#keywords`), "光合作用，叶绿体"),
			chromedp.SetValue(css(`#type`), "教案"),
			chromedp.SetValue(css(`#stage`), "初中"),
			chromedp.SetValue(css(`#grade`), "七年级"),
			chromedp.SetValue(css(`#subject`), "生物学"),
			chromedp.Click(css(`#lic-`+license)),
		)
	}

	// 1. li.teacher publishes a lesson plan with a file and submits it.
	b.signIn(base, "li.teacher", "/resources/new")
	fill("光合作用教学设计", "cc-by-sa")
	b.do(chromedp.SetUploadFiles(css(`#file`), []string{lesson}))
	if st := b.nav(chromedp.Click(css(`form[action="/resources/new"] button[type=submit]`))); st != 200 {
		t.Fatalf("publish form: %d\n%s", st, b.dump())
	}
	resource := strings.TrimPrefix(strings.SplitN(b.location(), "?", 2)[0], base)
	if !strings.HasPrefix(resource, "/resources/") || !strings.Contains(b.text(".flash"), "草稿已保存") {
		t.Fatalf("after saving: %s\n%s", resource, b.dump())
	}
	if files := b.text("#files-h + table"); !strings.Contains(files, "光合作用.md") {
		t.Fatalf("files: %q", files)
	}
	b.do(chromedp.Click(css(`#pledge`)))
	b.nav(chromedp.Click(css(`form[action$="/submit"] button`)))
	if flash := b.text(".flash"); !strings.Contains(flash, "已提交审核") {
		t.Fatalf("after submitting: %q", flash)
	}
	b.signOut()

	// 2. The reviewer approves it with the whole checklist.
	b.signIn(base, "zhou.reviewer", "/reviews")
	b.nav(chromedp.Click(css(`a[href="/reviews` + strings.TrimPrefix(resource, "/resources") + `"]`)))
	for _, item := range market.ChecklistItems {
		b.do(chromedp.Click(css(`#c-` + item)))
	}
	b.nav(chromedp.Click(css(`button[value="approve"]`)))
	if flash := b.text(".flash"); !strings.Contains(flash, "已记录决定") {
		t.Fatalf("after approving: %q", flash)
	}
	b.signOut()

	// 3. A student finds it by searching, claims it, and sees the ledger entries.
	b.signIn(base, "zhang.xiaoming", "/")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b.nav(chromedp.Navigate(base + "/search?q=" + url.QueryEscape("光合") + "&stage=" + url.QueryEscape("初中")))
		if strings.Contains(b.text("main"), "光合作用教学设计") || time.Now().After(deadline) {
			break
		}
	}
	if hit := b.text(".hits"); !strings.Contains(hit, "光合作用教学设计") || !strings.Contains(b.text(".facets"), "生物学") {
		t.Fatalf("search results: %q", hit)
	}
	b.nav(chromedp.Click(css(`.hits a[href="` + resource + `"]`)))
	if h := b.text("h1"); h != "光合作用教学设计" {
		t.Fatalf("resource page h1 %q", h)
	}
	b.nav(chromedp.Click(css(`form[action$="/claim"] button`)))
	if got := b.text(".side-col"); !strings.Contains(got, "您已获得授权") || !strings.Contains(got, "作品登记") {
		t.Fatalf("after claiming: %q", got)
	}
	if href := b.attr(`#files-h + table a`, "href"); !strings.Contains(href, "/download?file=") {
		t.Fatalf("download link %q", href)
	}
	b.signOut()

	// 4. chen.teacher derives a new work from it (share-alike keeps the licence).
	b.signIn(base, "chen.teacher", resource)
	b.nav(chromedp.Click(css(`a[href^="/resources/new?parent="]`)))
	fill("光合作用分层练习", "cc-by-sa")
	practice := filepath.Join(t.TempDir(), "练习.md")
	os.WriteFile(practice, []byte("# 光合作用分层练习\n\n1. 基础题：写出光合作用的文字表达式。\n2. 提高题：设计实验验证光是光合作用的条件。\n"), 0o600)
	b.do(chromedp.SetUploadFiles(css(`#file`), []string{practice}))
	b.nav(chromedp.Click(css(`form[action="/resources/new"] button[type=submit]`)))
	derivative := strings.TrimPrefix(strings.SplitN(b.location(), "?", 2)[0], base)
	b.do(chromedp.Click(css(`#pledge`)))
	b.nav(chromedp.Click(css(`form[action$="/submit"] button`)))
	b.signOut()
	b.signIn(base, "zhou.reviewer", "/reviews"+strings.TrimPrefix(derivative, "/resources"))
	for _, item := range market.ChecklistItems {
		b.do(chromedp.Click(css(`#c-` + item)))
	}
	b.nav(chromedp.Click(css(`button[value="approve"]`)))
	b.signOut()
	b.signIn(base, "sun.student", derivative)
	if tree := b.text(".main-col"); !strings.Contains(tree, "改编自") || !strings.Contains(tree, "光合作用教学设计") {
		t.Fatalf("derivation tree on the derivative: %q", tree)
	}
	b.nav(chromedp.Click(css(`form[action$="/claim"] button`)))
	b.signOut()

	// 5. li.teacher complains, citing its registration; the admin upholds.
	r, err := e.m.Resource(e.ctx(), strings.TrimPrefix(resource, "/resources/"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Ledger) < 2 || r.Ledger[0].Type != "work.registered" {
		t.Fatalf("ledger of the original: %+v", r.Ledger)
	}
	b.signIn(base, "li.teacher", derivative)
	b.do(
		chromedp.Click(css(`details summary`)),
		chromedp.SendKeys(css(`#reason`), "例题照搬了我的教学设计"),
		chromedp.SendKeys(css(`#evidence`), strconv.FormatInt(r.Ledger[0].Index, 10)),
	)
	b.nav(chromedp.Click(css(`form[action$="/complain"] button`)))
	if flash := b.text(".flash"); !strings.Contains(flash, "投诉已提交") {
		t.Fatalf("after complaining: %q\n%s", flash, b.dump())
	}
	b.signOut()
	b.signIn(base, "admin", "/admin/complaints")
	b.do(chromedp.SendKeys(css(`textarea[name="reason"]`), "经核实投诉成立"))
	b.nav(chromedp.Click(css(`button[value="uphold"]`)))
	b.signOut()
	b.signIn(base, "sun.student", "/space")
	if lic := b.text("#lic-h + table"); !strings.Contains(lic, "光合作用分层练习") || !strings.Contains(lic, "已撤销") {
		t.Fatalf("licences after the takedown: %q", lic)
	}
	if st := b.nav(chromedp.Navigate(base + derivative)); st != 404 {
		t.Fatalf("taken-down resource answers %d", st)
	}
}
