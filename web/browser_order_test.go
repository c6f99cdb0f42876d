package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"ziyuan/market"
)

// TestBrowserSchoolBuysForAClass: a school admin buys 30 classroom licences for a class by
// purchase order, confirms the payment, and the students can download — in Chromium without
// JavaScript.
func TestBrowserSchoolBuysForAClass(t *testing.T) {
	e := newEnv(t, openDB(t))
	meta := sampleMeta("七年级数学精品课件")
	meta.Offer = market.Offer{License: "paid", Prices: &market.Prices{Personal: 990, Classroom: 300}}
	paid := e.publishAs(t, "xuehai.vendor", meta)
	var csv strings.Builder
	csv.WriteString("login,name,role,password,birth_date\n")
	for i := range 30 {
		fmt.Fprintf(&csv, "c7.%02d,七年级学生%02d,student,Stud2026a,2010-01-01\n", i, i)
	}
	if _, err := e.m.ImportRoster(e.As(t, "xiaoxue.admin"), e.school, []byte(csv.String())); err != nil {
		t.Fatal(err)
	}
	base := e.listen(t)
	b := newBrowser(t)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }

	b.signIn(base, "xiaoxue.admin", "/resources/"+paid)
	b.nav(chromedp.Click(css(`a[href="/resources/` + paid + `/buy"]`)))
	b.do(chromedp.Click(css(`#scope-classroom`)))
	for i := range 30 {
		u, err := e.m.Login(e.ctx(), fmt.Sprintf("c7.%02d", i), "Stud2026a")
		if err != nil {
			t.Fatal(err)
		}
		b.do(chromedp.Click(css(`input[name="students"][value="` + u.ID + `"]`)))
	}
	b.do(chromedp.Click(css(`#prov-invoice`)), chromedp.SendKeys(css(`#purchase_order`), "PO-2026-0901"))
	if st := b.nav(chromedp.Click(css(`form[action$="/buy"] button[type=submit]`))); st != 200 {
		t.Fatalf("placing the order: %d\n%s", st, b.dump())
	}
	if main := b.text("main"); !strings.Contains(main, "待付款") || !strings.Contains(main, "¥90.00") || !strings.Contains(main, "PO-2026-0901") {
		t.Fatalf("order page: %q", main)
	}
	b.do(chromedp.SendKeys(css(`#reference`), "财务-2026-118"))
	b.nav(chromedp.Click(css(`form[action$="/confirm"] button`)))
	if main := b.text("main"); !strings.Contains(main, "已确认收款") || strings.Count(main, "有效") < 30 {
		t.Fatalf("after confirming: %q", main)
	}
	b.signOut()

	b.signInWith(base, "c7.07", "Stud2026a", "/resources/"+paid)
	if side := b.text(".side-col"); !strings.Contains(side, "您已获得授权") {
		t.Fatalf("a student of the class sees: %q", side)
	}
	tok := tokenFor(t, e, "c7.07", "Stud2026a")
	if res := e.do(t, "GET", "/api/v1/resources/"+paid+"/download", tok, nil); res.StatusCode != 302 {
		t.Fatalf("the student's download: %d", res.StatusCode)
	}
	if res := e.do(t, "GET", "/api/v1/resources/"+paid+"/download", e.tokens["sun.student"], nil); res.StatusCode != 403 {
		t.Fatalf("a student outside the class downloads: %d", res.StatusCode)
	}
}

func tokenFor(t *testing.T, e *env, login, password string) string {
	t.Helper()
	var out struct{ Token string }
	decode(t, e.do(t, "POST", "/api/v1/auth/login", "", jsonBody(map[string]string{"login": login, "password": password})), 200, &out)
	return out.Token
}
