package market_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"ziyuan/market"
	"ziyuan/market/markettest"
)

func TestConcurrentClaimsGiveOneLicence(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		r := publish(t, e, "li.teacher", lessonMeta("勾股定理复习课", "cc-by"), textUpload("复习.txt", lessonText+"复习"))
		student := e.As(t, "zhang.xiaoming")
		var wg sync.WaitGroup
		ids := make(chan string, 100)
		errs := make(chan error, 100)
		for range 100 {
			wg.Go(func() {
				l, _, err := e.M.Claim(student, r.ID)
				if err != nil {
					errs <- err
					return
				}
				ids <- l.ID
			})
		}
		wg.Wait()
		close(ids)
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent claim: %v", err)
		}
		distinct := map[string]bool{}
		for id := range ids {
			distinct[id] = true
		}
		var rows int64
		e.DB.Raw("SELECT COUNT(*) FROM licenses WHERE resource_id = ?", r.ID).Scan(&rows)
		if len(distinct) != 1 || rows != 1 {
			t.Fatalf("100 concurrent claims gave %d licence IDs and %d rows", len(distinct), rows)
		}
		var queued int64
		e.DB.Raw("SELECT COUNT(*) FROM ledger_entries WHERE dedupe_key LIKE 'license.granted:%'").Scan(&queued)
		if queued != 1 {
			t.Fatalf("%d license.granted entries", queued)
		}
	})
}

func TestConcurrentEnrolmentsRespectSeats(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		course := lessonMeta("初中数学暑期网络课程", "cc-by")
		course.Type = "网络课程"
		course.Course = &market.Course{Seats: 30, StartsAt: e.Clock.Now().Add(24 * time.Hour), EndsAt: e.Clock.Now().Add(30 * 24 * time.Hour)}
		r := publish(t, e, "chen.teacher", course)
		var csv strings.Builder
		csv.WriteString("login,name,role,password,birth_date\n")
		for i := range 50 {
			fmt.Fprintf(&csv, "seat.%02d,学生%02d,student,Stud2026a,2010-01-01\n", i, i)
		}
		rep, err := e.M.ImportRoster(e.As(t, "zhongxue.admin"), e.Insts["3111010802"], []byte(csv.String()))
		if err != nil || rep.Created != 50 {
			t.Fatalf("roster: %+v %v", rep, err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		outcomes := map[market.Code]int{}
		for i := range 50 {
			wg.Go(func() {
				u, err := e.M.Login(context.Background(), fmt.Sprintf("seat.%02d", i), "Stud2026a")
				if err != nil {
					t.Error(err)
					return
				}
				ctx := market.WithActor(context.Background(), market.Actor{})
				a, _ := e.M.ActorFor(ctx, u.ID)
				_, _, err = e.M.Enroll(market.WithActor(ctx, a), r.ID, "")
				mu.Lock()
				outcomes[market.ErrorCode(err)]++
				if err == nil {
					outcomes["ok"]++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if outcomes["ok"] != 30 || outcomes[market.CodeConflict] != 20 {
			t.Fatalf("50 enrolments into 30 seats: %v", outcomes)
		}
		view, _ := e.M.Resource(context.Background(), r.ID)
		if view.Enrolled != 30 {
			t.Fatalf("enrolled %d", view.Enrolled)
		}
	})
}

func TestTwoReviewersDecideOnce(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		if _, err := e.M.GrantRole(e.As(t, "admin"), e.Users["wu.evaluator"].ID, market.RoleReviewer); err != nil {
			t.Fatal(err)
		}
		li := e.As(t, "li.teacher")
		r, err := e.M.CreateResource(li, lessonMeta("一次函数的图像", "cc-by"), []market.Upload{textUpload("一次函数.txt", "一次函数的图像是一条直线。")})
		wantCode(t, err, "")
		_, err = e.M.Submit(li, r.ID, true)
		wantCode(t, err, "")
		reject := market.Decision{Decision: "reject", Reason: "例题有误"}
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i, who := range []string{"zhou.reviewer", "wu.evaluator"} {
			d := approve
			if i == 1 {
				d = reject
			}
			ctx := e.As(t, who)
			wg.Go(func() { _, results[i] = e.M.Decide(ctx, r.ID, d) })
		}
		wg.Wait()
		wins := 0
		for _, err := range results {
			if err == nil {
				wins++
			} else if !market.IsCode(err, market.CodeConflict) {
				t.Fatalf("loser got %v, want conflict", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d decisions won: %v", wins, results)
		}
		var approvals, rejections int64
		e.DB.Raw("SELECT COUNT(*) FROM audit_log WHERE action = 'review.approve' AND target = ?", r.ID).Scan(&approvals)
		e.DB.Raw("SELECT COUNT(*) FROM audit_log WHERE action = 'review.reject' AND target = ?", r.ID).Scan(&rejections)
		if approvals+rejections != 1 {
			t.Fatalf("%d approvals and %d rejections recorded", approvals, rejections)
		}
	})
}

func TestDuplicatesAtSubmission(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		orig := publish(t, e, "li.teacher", lessonMeta("勾股定理教学设计", "cc-by"), textUpload("勾股定理.txt", lessonText))
		chen := e.As(t, "chen.teacher")
		copyRes, err := e.M.CreateResource(chen, lessonMeta("我的勾股定理教案", "cc-by"), []market.Upload{textUpload("copy.txt", lessonText)})
		wantCode(t, err, "")
		_, err = e.M.Submit(chen, copyRes.ID, true)
		wantCode(t, err, market.CodeConflict)
		if !strings.Contains(err.Error(), orig.ID) || !strings.Contains(err.Error(), "勾股定理教学设计") || !strings.Contains(err.Error(), "ledger entry") {
			t.Fatalf("exact duplicate message does not name the work and its entry: %v", err)
		}
		// The author may resubmit its own file.
		own, err := e.M.CreateResource(e.As(t, "li.teacher"), lessonMeta("勾股定理教学设计（二）", "cc-by"), []market.Upload{textUpload("again.txt", lessonText)})
		wantCode(t, err, "")
		_, err = e.M.Submit(e.As(t, "li.teacher"), own.ID, true)
		wantCode(t, err, "")

		// A lightly edited copy is accepted but shown to the reviewer beside the original.
		edited := strings.Replace(lessonText, "介绍我国古代数学成就", "讲述古代数学家的故事", 1)
		near, err := e.M.CreateResource(chen, lessonMeta("勾股定理的证明", "cc-by"), []market.Upload{textUpload("near.txt", edited)})
		wantCode(t, err, "")
		sub, err := e.M.Submit(chen, near.ID, true)
		wantCode(t, err, "")
		if len(sub.Similar) == 0 || sub.Similar[0].ID != orig.ID || sub.Similar[0].Similarity < 0.8 {
			t.Fatalf("similar %+v, want the original at ≥ 0.8", sub.Similar)
		}
		q, err := e.M.ReviewQueue(e.As(t, "zhou.reviewer"), market.Paging{})
		wantCode(t, err, "")
		flagged := false
		for _, it := range q.Items {
			flagged = flagged || it.ResourceID == near.ID && it.Similar == 1
		}
		if !flagged {
			t.Fatalf("queue does not flag the near duplicate: %+v", q.Items)
		}
	})
}

func TestUpdateOfPublishedWaitsForReview(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		li := e.As(t, "li.teacher")
		r := publish(t, e, "li.teacher", lessonMeta("勾股定理教学设计", "cc-by"), textUpload("勾股定理.txt", lessonText))
		title := "勾股定理教学设计（修订版）"
		upd, err := e.M.UpdateResource(li, r.ID, market.MetaPatch{Title: &title}, []market.Upload{textUpload("补充.txt", "补充练习")})
		wantCode(t, err, "")
		if upd.Version != 2 || upd.VersionStatus != market.StatusDraft || upd.Status != market.StatusPublished || len(upd.Files) != 2 {
			t.Fatalf("update %+v", upd)
		}
		public, _ := e.M.Resource(context.Background(), r.ID)
		if public.Meta.Title != "勾股定理教学设计" || public.Version != 1 || len(public.Files) != 1 {
			t.Fatalf("public view during the update: %q v%d", public.Meta.Title, public.Version)
		}
		_, err = e.M.Submit(li, r.ID, true)
		wantCode(t, err, "")
		_, err = e.M.Decide(e.As(t, "zhou.reviewer"), r.ID, approve)
		wantCode(t, err, "")
		public, _ = e.M.Resource(context.Background(), r.ID)
		if public.Meta.Title != title || public.Version != 2 {
			t.Fatalf("after approval of the update: %q v%d", public.Meta.Title, public.Version)
		}
		if entries := ledgerOf(t, e, context.Background(), r.ID); len(entries["work.updated"]) != 1 {
			t.Fatalf("ledger %v", entries)
		}
	})
}

func TestOfferAndMetadataRules(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		cases := []struct {
			name   string
			who    string
			mutate func(*market.Meta)
			code   market.Code
			says   string
		}{
			{"ok", "li.teacher", func(*market.Meta) {}, "", ""},
			{"unknown type", "li.teacher", func(m *market.Meta) { m.Type = "论文" }, market.CodeInvalid, "课件"},
			{"grade of another stage", "li.teacher", func(m *market.Meta) { m.Grade = "高一" }, market.CodeInvalid, "grade"},
			{"no title", "li.teacher", func(m *market.Meta) { m.Title = " " }, market.CodeInvalid, "title"},
			{"no keywords", "li.teacher", func(m *market.Meta) { m.Keywords = nil }, market.CodeInvalid, "keywords"},
			{"paid without prices", "li.teacher", func(m *market.Meta) { m.Offer = market.Offer{License: "paid"} }, market.CodeInvalid, "price"},
			{"prices on a free offer", "li.teacher", func(m *market.Meta) {
				m.Offer = market.Offer{License: "cc-by", Prices: &market.Prices{Personal: 100}}
			}, market.CodeInvalid, "paid"},
			{"public from a school", "li.teacher", func(m *market.Meta) { m.Offer.License = "public" }, "", ""},
			{"public from a vendor", "xuehai.vendor", func(m *market.Meta) { m.Offer.License = "public" }, market.CodeInvalid, "public"},
			{"service from a teacher", "li.teacher", func(m *market.Meta) {
				m.Type = "服务"
				m.Offer = market.Offer{License: "paid", Prices: &market.Prices{Personal: 5000}}
			}, market.CodeInvalid, "vendor"},
			{"course without seats", "li.teacher", func(m *market.Meta) { m.Type = "网络课程" }, market.CodeInvalid, "seats"},
			{"unverified teacher", "new.teacher", func(*market.Meta) {}, market.CodeForbidden, ""},
			{"student", "sun.student", func(*market.Meta) {}, market.CodeForbidden, ""},
			{"parent that is not published", "li.teacher", func(m *market.Meta) { m.Parents = []string{market.NewID()} }, market.CodeInvalid, "parent"},
		}
		for _, c := range cases {
			meta := lessonMeta("规则测试", "cc-by")
			c.mutate(&meta)
			_, err := e.M.CreateResource(e.As(t, c.who), meta, []market.Upload{textUpload("x.txt", "内容")})
			if market.ErrorCode(err) != c.code && !(c.code == "" && err == nil) {
				t.Errorf("%s: err = %v, want %q", c.name, err, c.code)
			} else if c.says != "" && !strings.Contains(strings.ToLower(err.Error()), c.says) {
				t.Errorf("%s: message %q does not mention %q", c.name, err, c.says)
			}
		}
	})
}

func TestRatingsAndPaidItems(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		free := publish(t, e, "li.teacher", lessonMeta("勾股定理课件", "cc-by"), textUpload("课件.txt", "勾股定理课件内容"))
		paidMeta := lessonMeta("勾股定理精品课件", "paid")
		paidMeta.Offer.Prices = &market.Prices{Personal: 990, Classroom: 4900}
		paid := publish(t, e, "xuehai.vendor", paidMeta, textUpload("精品.txt", "精品课件内容"))
		student := e.As(t, "sun.student")

		_, err := e.M.Rate(student, free.ID, 5, "很好")
		wantCode(t, err, market.CodeForbidden) // no licence yet
		_, _, err = e.M.Claim(student, free.ID)
		wantCode(t, err, "")
		_, err = e.M.Rate(student, free.ID, 6, "")
		wantCode(t, err, market.CodeInvalid)
		_, err = e.M.Rate(student, free.ID, 5, "很好")
		wantCode(t, err, "")
		_, err = e.M.Rate(student, free.ID, 3, "一般")
		wantCode(t, err, "")
		view, _ := e.M.Resource(context.Background(), free.ID)
		if view.RatingCount != 1 || view.Rating != 3 {
			t.Fatalf("rating count %d avg %v, want one rating of 3", view.RatingCount, view.Rating)
		}
		list, err := e.M.Ratings(context.Background(), free.ID, market.Paging{})
		wantCode(t, err, "")
		if list.Total != 1 || list.Items[0].Stars != 3 || list.Items[0].Text != "一般" || list.Items[0].Author != "孙同学" || list.Items[0].UpdatedAt.IsZero() {
			t.Fatalf("ratings %+v", list.Items)
		}

		_, _, err = e.M.Claim(student, paid.ID)
		wantCode(t, err, market.CodePaymentRequired)
		_, err = e.M.Download(student, paid.ID, "")
		wantCode(t, err, market.CodeForbidden)
		// A paid parent needs a classroom or institution licence to derive from.
		d := lessonMeta("基于精品课件的练习", "cc-by")
		d.Parents = []string{paid.ID}
		r, err := e.M.CreateResource(e.As(t, "li.teacher"), d, []market.Upload{textUpload("d.txt", "练习")})
		wantCode(t, err, "")
		_, err = e.M.Submit(e.As(t, "li.teacher"), r.ID, true)
		if err == nil || !strings.Contains(err.Error(), "classroom or institution licence") {
			t.Fatalf("derivative of a paid item without a licence: %v", err)
		}
	})
}
