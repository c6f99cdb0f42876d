package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"ziyuan/market"
)

// chromium finds a Chromium binary; `make test` installs Debian's and sets
// ZIYUAN_REQUIRE_BROWSER=1, so the browser tests cannot silently skip in CI.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("ZIYUAN_REQUIRE_BROWSER") == "1" {
		t.Fatal("no Chromium found but ZIYUAN_REQUIRE_BROWSER=1: install it (apt-get install chromium) or run `make test`")
	}
	t.Skip("browser test skipped: no Chromium on PATH (`make test` installs it)")
	return ""
}

// newBrowser starts headless Chromium with JavaScript disabled: the core flows must work
// without it.
func newBrowser(t *testing.T) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first run starts the browser and must not carry a timeout (it would stop the browser).
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tgt, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	if err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return &page{t: t, ctx: ctx}
}

// page drives one tab; every step fails the test on error, with a 30 s limit.
type page struct {
	t   *testing.T
	ctx context.Context
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatal(err)
	}
}

// nav runs steps that load a page (a click on a link or a button) and returns the page's
// HTTP status once it has loaded.
func (p *page) nav(steps ...chromedp.Action[chromedp.Void]) int64 {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		p.t.Fatal(err)
	}
	return res.Status
}

func (p *page) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("text of %s: %v\npage: %s", sel, err, p.dump())
	}
	return strings.TrimSpace(s)
}

// dump returns the page's URL and visible text, for failure messages.
func (p *page) dump() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	return loc + "\n" + body
}

func (p *page) attr(sel, name string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	r, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		p.t.Fatalf("attribute %s of %s: %v", name, sel, err)
	}
	return r.Value
}

func TestBrowserTeacherSignsInAndSwitchesLanguage(t *testing.T) {
	e := newEnv(t, openDB(t))
	base := e.listen(t)
	b := newBrowser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	if st := b.nav(chromedp.Navigate(base + "/")); st != 200 {
		t.Fatalf("home page: %d", st)
	}
	b.nav(chromedp.Click(css(`nav a[href="/login"]`)))
	b.do(
		chromedp.SendKeys(css(`#login`), "li.teacher"),
		chromedp.SendKeys(css(`#password`), market.DemoPassword),
	)
	if st := b.nav(chromedp.Click(css(`form[action="/login"] button[type=submit]`))); st != 200 {
		t.Fatalf("after sign-in: %d", st)
	}
	heading, profile, lang := b.text("h1"), b.text(".facts"), b.attr("html", "lang")
	if heading != "我的空间" || lang != "zh-CN" || !strings.Contains(profile, "李老师") || !strings.Contains(profile, "已认证") ||
		!strings.Contains(profile, "北京市海淀区实验小学") {
		t.Fatalf("after sign-in: h1 %q, lang %q, profile %q", heading, lang, profile)
	}

	b.nav(chromedp.Click(css(`a[hreflang="en"]`)))
	heading, profile, lang = b.text("h1"), b.text(".facts"), b.attr("html", "lang")
	if heading != "My space" || lang != "en" || !strings.Contains(profile, "Teacher") || !strings.Contains(profile, "Verified") {
		t.Fatalf("after switching to English: h1 %q, lang %q, profile %q", heading, lang, profile)
	}

	b.nav(chromedp.Click(css(`form[action="/logout"] button`)))
	if link := b.text(`a[href="/login"]`); link != "Sign in" {
		t.Fatalf("after sign-out the language switch was lost or the session stayed: %q", link)
	}
}

func TestBrowserAdminImportsRosterAndVerifies(t *testing.T) {
	e := newEnv(t, openDB(t))
	base := e.listen(t)
	b := newBrowser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	roster := filepath.Join(t.TempDir(), "名单.csv")
	if err := os.WriteFile(roster, encodeGBKString(t, "账号,姓名,角色,密码\nliu.bei,刘备,学生,Stud2026a\nguan.yu,关羽,学生,short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.nav(chromedp.Navigate(base + "/login?next=/admin/institution"))
	b.do(
		chromedp.SendKeys(css(`#login`), "zhongxue.admin"),
		chromedp.SendKeys(css(`#password`), market.DemoPassword),
	)
	b.nav(chromedp.Click(css(`form[action="/login"] button[type=submit]`)))
	b.do(chromedp.SetUploadFiles(css(`#file`), []string{roster}))
	if st := b.nav(chromedp.Click(css(`form[action="/admin/institution/roster"] button[type=submit]`))); st != 200 {
		t.Fatalf("roster upload: %d", st)
	}
	report, pending := b.text(".report"), b.text("#pending-h + table")
	if !strings.Contains(report, "新建 1 个") || !strings.Contains(report, "3") || !strings.Contains(report, "密码至少 8 个字符") {
		t.Fatalf("roster report %q", report)
	}
	if !strings.Contains(pending, "刘老师") {
		t.Fatalf("pending users %q", pending)
	}
	b.nav(chromedp.Click(css(`button[aria-label="认证 刘老师"]`)))
	if flash := b.text(".flash"); !strings.Contains(flash, "刘老师") {
		t.Fatalf("after verifying: %q", flash)
	}
	u, err := e.m.User(context.Background(), e.users["new.teacher"].ID)
	if err != nil || !u.Verified {
		t.Fatalf("new.teacher not verified: %+v %v", u, err)
	}
}
