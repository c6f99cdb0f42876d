package market_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"ziyuan/market"
	"ziyuan/market/contrib"
	"ziyuan/market/markettest"
)

// contribScenario is crafted data for the definitions of docs/contributions.md, in October
// 2026 (China time), around li.teacher (实验小学, under the 海淀 bureau):
//
//	W1  published in September; claimed then by zhang.xiaoming, again in October (a repeat)
//	W2  published in October; claimed by zhang.xiaoming, three new students and zhang.parent
//	    (all of li's school), sun.student and chen.teacher (育才中学), and li itself (self);
//	    downloaded by sun (twice) and a student, and by li; rated by sun (5), chen (4), li (3);
//	    chen derives D1 from it
//	W3  语文, published in October; claimed by gongyi.editor (the public-welfare centre)
//	W4  paid, published in October; the school buys an institution licence twice (the second
//	    order is refunded: a repeat, then revoked)
//	W5  published in October, claimed by sun, then taken down after a complaint
//	D2  li's own derivative of W1, published in October
type contribScenario struct {
	w1, w2, w3, w4, w5, d1, d2 string
	students                   []string
	saleFen                    int64
}

var october = market.ContributionQuery{From: "2026-10-01", To: "2026-11-01"}

func buildContribScenario(t *testing.T, e *markettest.Env) *contribScenario {
	t.Helper()
	s := &contribScenario{}
	tick := func() { e.Clock.Advance(time.Minute) }
	claim := func(login, id string) {
		t.Helper()
		tick()
		if _, _, err := e.M.Claim(e.As(t, login), id); err != nil {
			t.Fatalf("%s claims: %v", login, err)
		}
	}
	download := func(login, id string) {
		t.Helper()
		tick()
		if _, err := e.M.Download(e.As(t, login), id, ""); err != nil {
			t.Fatalf("%s downloads: %v", login, err)
		}
	}
	lesson := func(title, subject, license string) market.Meta {
		m := lessonMeta(title, license)
		m.Subject = subject
		return m
	}
	file := func(title string) market.Upload {
		return textUpload(title+".txt", title+"：教学目标、教学过程、课堂练习与作业设计。")
	}

	// September.
	s.w1 = publish(t, e, "li.teacher", lesson("一次函数图像", "数学", "cc-by"), file("一次函数图像")).ID
	claim("zhang.xiaoming", s.w1)
	download("zhang.xiaoming", s.w1)

	// October.
	e.Clock.Advance(31 * 24 * time.Hour)
	s.students = classStudents(t, e, 3)
	s.w2 = publish(t, e, "li.teacher", lesson("勾股定理的证明", "数学", "cc-by"), file("勾股定理的证明")).ID
	tick()
	s.w3 = publish(t, e, "li.teacher", lesson("古诗两首", "语文", "cc-by"), file("古诗两首")).ID
	tick()
	paid := lesson("分数的意义", "数学", "paid")
	paid.Offer.Prices = &market.Prices{Personal: 500, Institution: 10000}
	s.w4 = publish(t, e, "li.teacher", paid, file("分数的意义")).ID
	tick()
	s.w5 = publish(t, e, "li.teacher", lesson("乘法口诀", "数学", "cc-by"), file("乘法口诀")).ID

	claim("zhang.xiaoming", s.w1) // a repeat: the same licence again
	for _, login := range []string{"zhang.xiaoming", "class.00", "class.01", "class.02", "zhang.parent", "sun.student", "chen.teacher", "li.teacher"} {
		claim(login, s.w2)
	}
	claim("gongyi.editor", s.w3)
	claim("sun.student", s.w5)
	download("sun.student", s.w2)
	download("sun.student", s.w2)
	download("class.00", s.w2)
	download("li.teacher", s.w2)
	download("zhang.xiaoming", s.w1) // first downloaded in September
	for _, r := range []struct {
		login string
		stars int
	}{{"sun.student", 5}, {"chen.teacher", 4}, {"li.teacher", 3}} {
		tick()
		if _, err := e.M.Rate(e.As(t, r.login), s.w2, r.stars, "好"); err != nil {
			t.Fatalf("rate: %v", err)
		}
	}
	admin := e.As(t, "xiaoxue.admin")
	var orders []string
	for _, key := range []string{"inst-1", "inst-2"} {
		tick()
		o, _, err := e.M.CreateOrder(admin, key, market.OrderRequest{Provider: "invoice", PurchaseOrder: "PO-" + key,
			Items: []market.OrderItemRequest{{ResourceID: s.w4, Scope: "institution"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.M.ConfirmOrder(admin, o.ID, "FIN-"+key); err != nil {
			t.Fatal(err)
		}
		orders = append(orders, o.ID)
		s.saleFen = o.Items[0].SellerFen
	}
	tick()
	if _, err := e.M.RefundOrder(e.As(t, "admin"), orders[1], market.RefundRequest{}); err != nil {
		t.Fatal(err)
	}
	tick()
	d1 := lesson("勾股定理分层练习", "数学", "cc-by")
	d1.Parents = []string{s.w2}
	s.d1 = publish(t, e, "chen.teacher", d1, file("勾股定理分层练习")).ID
	tick()
	d2 := lesson("一次函数图像练习", "数学", "cc-by")
	d2.Parents = []string{s.w1}
	s.d2 = publish(t, e, "li.teacher", d2, file("一次函数图像练习")).ID
	tick()
	c, err := e.M.FileComplaint(e.As(t, "chen.teacher"), s.w5, "与我此前发布的作品完全相同", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.M.DecideComplaint(e.As(t, "admin"), c.ID, "uphold", "经核实属实"); err != nil {
		t.Fatal(err)
	}
	tick()
	waitCheckpointed(t, e)
	return s
}

// waitCheckpointed waits until a signed checkpoint covers every queued ledger entry.
func waitCheckpointed(t testing.TB, e *markettest.Env) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var queued int64
		e.DB.Raw("SELECT COUNT(*) FROM ledger_entries").Scan(&queued)
		if cp, err := e.Ledger.Checkpoint(context.Background()); err == nil && cp.Size == queued {
			return
		}
	}
	t.Fatal("no checkpoint covers the ledger")
}

// records exports q as login in JSON, verifies the export and returns its records by teacher
// login.
func records(t *testing.T, e *markettest.Env, login string, q market.ContributionQuery) (map[string]contrib.Record, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := e.M.ExportContributions(e.As(t, login), q, market.FormatJSON, &buf, nil); err != nil {
		t.Fatalf("export as %s: %v", login, err)
	}
	if _, err := contrib.Verify(bytes.NewReader(buf.Bytes()), e.Ledger.VerifierKey()); err != nil {
		t.Fatalf("the export does not verify: %v\n%s", err, buf.String())
	}
	var doc struct {
		Teachers []contrib.Record `json:"teachers"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	byLogin := map[string]contrib.Record{}
	for _, r := range doc.Teachers {
		for login, u := range e.Users {
			if u.ID == r.TeacherID {
				byLogin[login] = r
			}
		}
	}
	return byLogin, buf.Bytes()
}

// bothModes runs fn with small exports probing tables per chunk, then with every export
// reading them whole (market.ContributionScanFrom), which must give the same records.
func bothModes(t *testing.T, fn func(t *testing.T)) {
	t.Helper()
	saved := market.ContributionScanFrom
	defer func() { market.ContributionScanFrom = saved }()
	for _, mode := range []struct {
		name string
		from int
	}{{"probe", 1 << 30}, {"scan", 0}} {
		market.ContributionScanFrom = mode.from
		t.Run(mode.name, fn)
	}
}

func TestContributionDefinitions(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		s := buildContribScenario(t, e)
		bothModes(t, func(t *testing.T) { checkDefinitions(t, e, s) })
	})
}

func checkDefinitions(t *testing.T, e *markettest.Env, s *contribScenario) {
	{
		recs, _ := records(t, e, "wu.evaluator", october)
		li := recs["li.teacher"]
		want := contrib.Counts{
			Published: 4, // W2, W3, W4, D2; W1 is September's, W5 was taken down
			// W2: 5 of li's school, sun and chen; W3: the public centre; W4: the school once.
			Adoptions: 9, OwnInstitutionAdoptions: 6, OwnInstitutionMajority: true,
			AdoptingInstitutions: 2, // 育才中学 and the public centre; li's own school is not counted
			Downloads:            2, // sun and class.00 on W2; not li, not zhang.xiaoming's September-first W1
			RatingsCount:         2, RatingsSum: 9, RatingsAvg: 4.5,
			Derivatives: 1,         // chen's D1; li's own D2 is not
			EarningsFen: s.saleFen, // two sales, one refunded
		}
		if li.Counts != want {
			t.Fatalf("li.teacher's October:\n got %+v\nwant %+v", li.Counts, want)
		}
		if li.Pending != 0 || len(li.Evidence.Works) != 4 || len(li.Evidence.Adoptions) != 9 || len(li.Evidence.Derivatives) != 1 {
			t.Fatalf("evidence %+v", li.Evidence)
		}
		chen := recs["chen.teacher"]
		if chen.Published != 1 || chen.Adoptions != 0 || chen.Derivatives != 0 {
			t.Fatalf("chen.teacher's October: %+v", chen.Counts)
		}
		if _, ok := recs["gongyi.editor"]; ok {
			t.Fatal("the bureau's evaluator sees a teacher of the public-welfare centre")
		}

		// September: W1 and its first claim by zhang.xiaoming (own school: the flag is up).
		sept, _ := records(t, e, "wu.evaluator", market.ContributionQuery{From: "2026-09-01", To: "2026-10-01"})
		if c := sept["li.teacher"].Counts; c.Published != 1 || c.Adoptions != 1 || c.OwnInstitutionAdoptions != 1 ||
			!c.OwnInstitutionMajority || c.Downloads != 1 || c.AdoptingInstitutions != 0 {
			t.Fatalf("li.teacher's September: %+v", c)
		}

		// Filters: subject 语文 leaves W3 and its one adoption.
		yuwen := october
		yuwen.Subject = "语文"
		recs, _ = records(t, e, "wu.evaluator", yuwen)
		if c := recs["li.teacher"].Counts; c.Published != 1 || c.Adoptions != 1 || c.AdoptingInstitutions != 1 ||
			c.OwnInstitutionMajority || c.Downloads != 0 || c.EarningsFen != 0 || c.Derivatives != 0 {
			t.Fatalf("li.teacher's October in 语文: %+v", c)
		}
		math := october
		math.Subject, math.Stage = "数学", "初中"
		recs, _ = records(t, e, "wu.evaluator", math)
		if c := recs["li.teacher"].Counts; c.Published != 3 || c.Adoptions != 8 || c.EarningsFen != s.saleFen || c.Derivatives != 1 {
			t.Fatalf("li.teacher's October in 数学: %+v", c)
		}
		math.Stage = "小学"
		recs, _ = records(t, e, "wu.evaluator", math)
		if c := recs["li.teacher"].Counts; c.Published != 0 || c.Adoptions != 0 || c.EarningsFen != 0 {
			t.Fatalf("li.teacher's October in 小学数学: %+v", c)
		}

		// The dashboard gives the same counts, sorted, with the charts' series.
		d, err := e.M.ContributionDashboard(e.As(t, "wu.evaluator"), market.DashboardQuery{ContributionQuery: october, Sort: "published", Desc: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Records) != 3 || d.Records[0].TeacherID != e.Users["li.teacher"].ID || d.Records[0].Counts != want {
			t.Fatalf("dashboard %+v", d.Records)
		}
		if len(d.Series.Months) != 1 || d.Series.Months[0] != (market.SeriesPoint{Label: "2026-10", Published: 5, Adoptions: 9, Derivatives: 1}) {
			t.Fatalf("months %+v", d.Series.Months)
		}
		if len(d.Series.Subjects) != 2 || d.Series.Subjects[0] != (market.SeriesPoint{Label: "数学", Published: 4, Adoptions: 8, Derivatives: 1}) {
			t.Fatalf("subjects %+v", d.Series.Subjects)
		}
	}
}

// contribRoleCases: who sees what. Every role of API.md, plus an unverified teacher and a
// school's own evaluator.
func TestContributionScope(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		w := publish(t, e, "li.teacher", lessonMeta("范围测试", "cc-by"), textUpload("范围测试.txt", "范围测试：教学目标与过程。"))
		publish(t, e, "gongyi.editor", lessonMeta("公益范围测试", "cc-by"), textUpload("公益范围测试.txt", "公益范围测试：教学目标与过程。"))
		_ = w
		school, middle := e.Insts["2111010801"], e.Insts["3111010802"]
		bureau := e.Insts["1111010800"]
		csv := "login,name,role,password\nschool.evaluator,校评价员,evaluator,Eval2026a\n"
		if _, err := e.M.ImportRoster(e.As(t, "zhongxue.admin"), middle, []byte(csv)); err != nil {
			t.Fatal(err)
		}
		ids := func(login string, q market.ContributionQuery) ([]string, error) {
			var ctx context.Context
			if login == "" {
				ctx = context.Background()
			} else {
				ctx = e.As(t, login)
			}
			d, err := e.M.ContributionDashboard(ctx, market.DashboardQuery{ContributionQuery: q, Sort: "name"})
			var out []string
			for _, r := range d.Records {
				out = append(out, r.Name)
			}
			return out, err
		}
		cases := []struct {
			login string
			q     market.ContributionQuery
			want  []string
			code  market.Code
		}{
			{login: "", code: market.CodeUnauthenticated},
			{login: "zhang.xiaoming", code: market.CodeForbidden},
			{login: "zhang.parent", code: market.CodeForbidden},
			{login: "xuehai.vendor", code: market.CodeForbidden},
			{login: "zhou.reviewer", code: market.CodeForbidden},
			{login: "xiaoxue.admin", code: market.CodeForbidden},
			{login: "new.teacher", code: market.CodeForbidden}, // not verified
			{login: "li.teacher", want: []string{"李老师"}},
			{login: "li.teacher", q: market.ContributionQuery{TeacherID: e.Users["chen.teacher"].ID}, code: market.CodeForbidden},
			{login: "li.teacher", q: market.ContributionQuery{InstitutionID: middle}, code: market.CodeForbidden},
			{login: "li.teacher", q: market.ContributionQuery{TeacherID: e.Users["li.teacher"].ID, InstitutionID: school}, want: []string{"李老师"}},
			// The bureau's evaluator: both schools under it, not the public-welfare centre.
			{login: "wu.evaluator", want: []string{"刘老师", "李老师", "陈老师"}},
			{login: "wu.evaluator", q: market.ContributionQuery{InstitutionID: school}, want: []string{"李老师"}},
			{login: "wu.evaluator", q: market.ContributionQuery{InstitutionID: bureau}, want: []string{"刘老师", "李老师", "陈老师"}},
			{login: "wu.evaluator", q: market.ContributionQuery{TeacherID: e.Users["chen.teacher"].ID}, want: []string{"陈老师"}},
			{login: "wu.evaluator", q: market.ContributionQuery{TeacherID: e.Users["gongyi.editor"].ID}, code: market.CodeForbidden},
			{login: "wu.evaluator", q: market.ContributionQuery{InstitutionID: e.Insts["9100000001"]}, code: market.CodeForbidden},
			// A school's evaluator: its school only.
			{login: "school.evaluator", want: []string{"刘老师", "陈老师"}},
			{login: "school.evaluator", q: market.ContributionQuery{InstitutionID: school}, code: market.CodeForbidden},
			{login: "school.evaluator", q: market.ContributionQuery{TeacherID: e.Users["li.teacher"].ID}, code: market.CodeForbidden},
			{login: "admin", want: []string{"公益资源编辑", "刘老师", "李老师", "陈老师"}},
			{login: "admin", q: market.ContributionQuery{InstitutionID: e.Insts["9100000001"]}, want: []string{"公益资源编辑"}},
			{login: "admin", q: market.ContributionQuery{From: "2026-13-01"}, code: market.CodeInvalid},
			{login: "admin", q: market.ContributionQuery{From: "2026-10-01", To: "2026-10-01"}, code: market.CodeInvalid},
			{login: "admin", q: market.ContributionQuery{InstitutionID: "not-an-id"}, code: market.CodeInvalid},
		}
		for i, c := range cases {
			t.Run(fmt.Sprintf("%d-%s", i, c.login), func(t *testing.T) {
				got, err := ids(c.login, c.q)
				if c.code != "" {
					wantCode(t, err, c.code)
					var buf bytes.Buffer
					err := e.M.ExportContributions(ctxAs(t, e, c.login), c.q, market.FormatCSV, &buf, nil)
					wantCode(t, err, c.code)
					if buf.Len() != 0 {
						t.Fatalf("a refused export wrote %d bytes", buf.Len())
					}
					return
				}
				wantCode(t, err, "")
				if fmt.Sprint(got) != fmt.Sprint(c.want) {
					t.Fatalf("sees %v, want %v", got, c.want)
				}
			})
		}
	})
}

func ctxAs(t *testing.T, e *markettest.Env, login string) context.Context {
	if login == "" {
		return context.Background()
	}
	return e.As(t, login)
}
