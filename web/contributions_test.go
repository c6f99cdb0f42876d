package web_test

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"ziyuan/market"
	"ziyuan/market/contrib"
)

const september = "from=2026-09-01&to=2026-10-01"

// contributionFixtures: li.teacher publishes two lessons that three others claim, chen.teacher
// derives from one; everything is under a signed checkpoint.
func (e *env) contributionFixtures(t testing.TB) {
	t.Helper()
	e.fx["lesson1"] = e.publishAs(t, "li.teacher", sampleMeta("一次函数的图像"))
	lesson2 := sampleMeta("古诗词鉴赏")
	lesson2.Subject, lesson2.Type = "语文", "课件"
	e.fx["lesson2"] = e.publishAs(t, "li.teacher", lesson2)
	for _, login := range []string{"sun.student", "zhang.xiaoming", "chen.teacher"} {
		if _, _, err := e.m.Claim(e.As(t, login), e.fx["lesson1"]); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := e.m.Claim(e.As(t, "sun.student"), e.fx["lesson2"]); err != nil {
		t.Fatal(err)
	}
	derived := sampleMeta("一次函数图像练习")
	derived.Parents = []string{e.fx["lesson1"]}
	e.fx["derived"] = e.publishAs(t, "chen.teacher", derived)
	e.waitCheckpoint(t)
}

func readAll(t testing.TB, r io.ReadCloser) []byte {
	t.Helper()
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestContributionsAPI(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		e.contributionFixtures(t)
		res := e.do(t, "GET", "/api/v1/contributions?"+september, e.tokens["wu.evaluator"], nil)
		data := readAll(t, res.Body)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") ||
			!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("JSON export: %d %v\n%s", res.StatusCode, res.Header, data)
		}
		rep, err := contrib.Verify(bytes.NewReader(data), e.Ledger.VerifierKey())
		if err != nil {
			t.Fatalf("the API's export does not verify: %v", err)
		}
		var li *contrib.TeacherReport
		for i, tr := range rep.Teachers {
			if tr.TeacherID == e.users["li.teacher"].ID {
				li = &rep.Teachers[i]
			}
		}
		if li == nil || li.Published != 2 || li.Adoptions != 4 || li.Derivatives != 1 || li.AdoptingInstitutions != 1 || li.OwnInstitutionAdoptions != 1 {
			t.Fatalf("li.teacher proven %+v", li)
		}
		if len(rep.Teachers) != 3 {
			t.Fatalf("the bureau's evaluator sees %d teachers", len(rep.Teachers))
		}

		// A teacher gets its own row only, as CSV with a BOM.
		res = e.do(t, "GET", "/api/v1/contributions?format=csv&"+september, e.tokens["li.teacher"], nil)
		csv := string(readAll(t, res.Body))
		if res.StatusCode != 200 || !strings.HasPrefix(csv, "\xEF\xBB\xBF机构,教师,教师编号") || strings.Count(csv, "\r\n") != 2 ||
			!strings.Contains(csv, "李老师") || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("teacher's CSV (%d):\n%q", res.StatusCode, csv)
		}
		res = e.do(t, "GET", "/api/v1/contributions?format=xlsx&subject="+"%E8%AF%AD%E6%96%87&"+september, e.tokens["admin"], nil)
		f, err := excelize.OpenReader(bytes.NewReader(readAll(t, res.Body)))
		if err != nil {
			t.Fatalf("XLSX (%d): %v", res.StatusCode, err)
		}
		rows, _ := f.GetRows("北京市海淀区实验小学")
		if len(rows) != 2 || rows[1][1] != "李老师" || rows[1][3] != "1" || rows[1][4] != "1" {
			t.Fatalf("语文 only, li.teacher's row: %q", rows)
		}

		for _, c := range []struct {
			who, query string
			status     int
			code       string
		}{
			{"li.teacher", "teacher_id=" + e.users["chen.teacher"].ID, 403, "forbidden"},
			{"wu.evaluator", "institution_id=" + e.Insts["9100000001"], 403, "forbidden"},
			{"xiaoxue.admin", "", 403, "forbidden"},
			{"admin", "format=pdf", 400, "invalid"},
			{"admin", "from=2026-02-30", 400, "invalid"},
			{"admin", "from=2027-01-01&to=2026-01-01", 400, "invalid"},
			{"", "", 401, "unauthenticated"},
		} {
			wantError(t, e.do(t, "GET", "/api/v1/contributions?"+c.query, e.tokens[c.who], nil), c.status, c.code)
		}
	})
}

var svgChart = regexp.MustCompile(`<svg [^>]*role="img" aria-labelledby="chart-months-title chart-months-desc"[^>]*><title id="chart-months-title">[^<]+</title><desc id="chart-months-desc">[^<]*2026-09：发布 3，采用 4，衍生 1</desc>`)

func TestContributionPages(t *testing.T) {
	e := newEnv(t, openDB(t))
	e.contributionFixtures(t)
	b := e.browser()
	b.login(t, "wu.evaluator")
	res, page := b.do(t, "GET", "/contributions?"+september+"&sort=name&dir=asc", nil)
	if res.StatusCode != 200 {
		t.Fatalf("dashboard: %d", res.StatusCode)
	}
	for _, want := range []string{
		`<a href="/contributions" aria-current="page">贡献评价</a>`,
		`aria-sort="ascending"`, `href="/contributions?dir=desc&amp;from=2026-09-01&amp;sort=name&amp;to=2026-10-01"`,
		`href="/contributions/export?format=xlsx&amp;from=2026-09-01&amp;to=2026-10-01"`,
		`<desc id="chart-subjects-desc">`, `<text `, `以表格查看数值`, `共 3 位教师：发布 3 件，被采用 4 次，衍生作品 1 件`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	if !svgChart.MatchString(page) {
		t.Errorf("no accessible monthly chart with its numbers in the page:\n%s", page)
	}
	if i, j := strings.Index(page, "<td>刘老师</td>"), strings.Index(page, "<td>陈老师</td>"); i < 0 || j < 0 || i > j {
		t.Errorf("not sorted by name: %d %d", i, j)
	}
	res, page = b.do(t, "GET", "/contributions?"+september+"&sort=adoptions&dir=desc", nil)
	if i, j := strings.Index(page, "<td>李老师</td>"), strings.Index(page, "<td>刘老师</td>"); res.StatusCode != 200 || i < 0 || i > j {
		t.Errorf("not sorted by adoptions")
	}
	res, _ = b.do(t, "GET", "/contributions?sort=shoe-size", nil)
	if res.StatusCode != 400 {
		t.Errorf("unknown sort: %d", res.StatusCode)
	}
	res, csv := b.do(t, "GET", "/contributions/export?format=csv&"+september, nil)
	if res.StatusCode != 200 || !strings.HasPrefix(csv, "\xEF\xBB\xBF") || strings.Count(csv, "\r\n") != 4 {
		t.Fatalf("export button: %d %q", res.StatusCode, csv)
	}

	// The teacher's own page, its chart and its verifiable record.
	tb := e.browser()
	tb.login(t, "li.teacher")
	res, _ = tb.do(t, "GET", "/contributions", nil)
	if res.StatusCode != 303 || res.Header.Get("Location") != "/space/contributions" {
		t.Fatalf("a teacher on the dashboard: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res, page = tb.do(t, "GET", "/space/contributions?"+september, nil)
	if res.StatusCode != 200 || !strings.Contains(page, "我的贡献") || !strings.Contains(page, `role="img"`) ||
		!strings.Contains(page, `href="/contributions/export?format=json&amp;from=2026-09-01&amp;to=2026-10-01"`) {
		t.Fatalf("my contributions (%d):\n%s", res.StatusCode, page)
	}
	res, record := tb.do(t, "GET", "/contributions/export?format=json&"+september, nil)
	rep, err := contrib.Verify(strings.NewReader(record), e.Ledger.VerifierKey())
	if res.StatusCode != 200 || err != nil || len(rep.Teachers) != 1 || rep.Teachers[0].Published != 2 {
		t.Fatalf("my record (%d): %v", res.StatusCode, err)
	}
	// Audited.
	page2, err := e.m.Audit(e.As(t, "admin"), market.AuditFilter{Action: "contributions.export"}, market.Paging{})
	if err != nil || page2.Total < 2 {
		t.Fatalf("exports audited: %d %v", page2.Total, err)
	}
}
