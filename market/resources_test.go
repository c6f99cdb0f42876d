package market_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	"ziyuan/market"
	"ziyuan/market/markettest"
	"ziyuan/rights"
)

// textUpload makes an inspected text file as market/files would hand it over.
func textUpload(name, text string) market.Upload {
	sum := sha256.Sum256([]byte(text))
	return market.Upload{Name: name, Size: int64(len(text)), SHA256: hex.EncodeToString(sum[:]), MIME: "text/plain; charset=utf-8",
		Kind: "text", Text: text, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil }}
}

func lessonMeta(title, license string) market.Meta {
	return market.Meta{Title: title, Summary: "一节完整的" + title + "，含教学目标、重难点和课堂练习。",
		Type: "教案", Stage: "初中", Grade: "八年级", Subject: "数学", Edition: "人教版", Volume: "上册",
		Keywords: []string{"勾股定理", "证明"}, Offer: market.Offer{License: license}}
}

var approve = market.Decision{Decision: "approve", Reason: "内容准确", Checklist: map[string]bool{
	"political": true, "orientation": true, "scientific": true, "applicable": true, "normative": true, "timely": true, "public_interest": true}}

const lessonText = `勾股定理教学设计。教学目标：理解勾股定理的内容，掌握用面积法证明勾股定理的方法，能运用勾股定理解决简单的实际问题。
教学重点：勾股定理的证明与应用。教学难点：用拼图法证明勾股定理。教学过程：一、情境导入，展示赵爽弦图，介绍我国古代数学成就。
二、探究新知，学生分组用四个全等的直角三角形拼出正方形，计算面积，发现直角边与斜边的关系。三、例题讲解，已知直角三角形两边求第三边。
四、课堂练习，完成课本练习题。五、小结与作业。`

// publish creates, submits and approves a resource as owner, returning it published.
func publish(t *testing.T, e *markettest.Env, owner string, meta market.Meta, files ...market.Upload) market.Resource {
	t.Helper()
	r, err := e.M.CreateResource(e.As(t, owner), meta, files)
	wantCode(t, err, "")
	if _, err := e.M.Submit(e.As(t, owner), r.ID, true); err != nil {
		t.Fatalf("submit %s: %v", meta.Title, err)
	}
	r, err = e.M.Decide(e.As(t, "zhou.reviewer"), r.ID, approve)
	wantCode(t, err, "")
	if r.Status != market.StatusPublished {
		t.Fatalf("after approval: %s", r.Status)
	}
	return r
}

// ledgerOf waits until every ledger entry shown on a resource has its index and returns the
// entries by type.
func ledgerOf(t *testing.T, e *markettest.Env, ctx context.Context, id string) map[string][]int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := e.M.Resource(ctx, id)
		wantCode(t, err, "")
		out, pending := map[string][]int64{}, false
		for _, l := range r.Ledger {
			out[l.Type] = append(out[l.Type], l.Index)
			pending = pending || l.Index < 0
		}
		if !pending {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("ledger entries of %s not integrated: %+v", id, r.Ledger)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// verifyEntry checks entry idx against a signed checkpoint with a receipt, as a teacher would,
// and returns it.
func verifyEntry(t *testing.T, e *markettest.Env, idx int64, typ rights.EntryType) rights.Entry {
	t.Helper()
	ctx := context.Background()
	var (
		receipt []byte
		err     error
	)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		// The next checkpoint covers a new entry within a moment.
		if receipt, err = e.Ledger.Receipt(ctx, idx); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("receipt for entry %d: %v", idx, err)
	}
	rep, err := rights.VerifyReceipt(receipt, e.Ledger.VerifierKey())
	if err != nil {
		t.Fatalf("receipt for entry %d does not verify: %v", idx, err)
	}
	if rep.Entry.Type != typ {
		t.Fatalf("entry %d has type %s, want %s", idx, rep.Entry.Type, typ)
	}
	return rep.Entry
}

func TestPublishReviewClaimDeriveComplain(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		li, chen := e.As(t, "li.teacher"), e.As(t, "chen.teacher")
		reviewer, student := e.As(t, "zhou.reviewer"), e.As(t, "zhang.xiaoming")
		anon := context.Background()

		draft, err := e.M.CreateResource(li, lessonMeta("勾股定理教学设计", "cc-by-sa"), []market.Upload{textUpload("勾股定理.txt", lessonText)})
		wantCode(t, err, "")
		if draft.Status != market.StatusDraft || len(draft.Files) != 1 || draft.Files[0].Name != "勾股定理.txt" {
			t.Fatalf("draft %+v", draft)
		}
		_, err = e.M.Resource(student, draft.ID)
		wantCode(t, err, market.CodeNotFound) // drafts are invisible to others
		_, err = e.M.Submit(li, draft.ID, false)
		wantCode(t, err, market.CodeInvalid)
		_, err = e.M.Submit(chen, draft.ID, true)
		wantCode(t, err, market.CodeForbidden)
		pending, err := e.M.Submit(li, draft.ID, true)
		wantCode(t, err, "")
		if pending.Status != market.StatusPendingReview {
			t.Fatalf("after submit: %s", pending.Status)
		}

		queue, err := e.M.ReviewQueue(reviewer, market.Paging{})
		wantCode(t, err, "")
		if queue.Total != 1 || queue.Items[0].ResourceID != draft.ID || queue.Items[0].Author != "李老师" {
			t.Fatalf("queue %+v", queue)
		}
		_, err = e.M.ReviewQueue(li, market.Paging{})
		wantCode(t, err, market.CodeForbidden)
		incomplete := approve
		incomplete.Checklist = map[string]bool{"political": true}
		_, err = e.M.Decide(reviewer, draft.ID, incomplete)
		wantCode(t, err, market.CodeInvalid)
		_, err = e.M.Decide(reviewer, draft.ID, market.Decision{Decision: "reject"})
		wantCode(t, err, market.CodeInvalid) // a rejection needs a reason
		pub, err := e.M.Decide(reviewer, draft.ID, approve)
		wantCode(t, err, "")
		if pub.Status != market.StatusPublished || pub.Published == nil || *pub.Published != 1 {
			t.Fatalf("after approval %+v", pub)
		}
		_, err = e.M.Decide(reviewer, draft.ID, approve)
		wantCode(t, err, market.CodeConflict)

		entries := ledgerOf(t, e, anon, pub.ID)
		if len(entries["work.registered"]) != 1 || len(entries["work.published"]) != 1 {
			t.Fatalf("ledger of the published work: %v", entries)
		}
		reg := verifyEntry(t, e, entries["work.registered"][0], rights.WorkRegistered)
		if reg.License == nil || reg.License.Code != "cc-by-sa" || reg.ContentSHA256.IsZero() || len(reg.Fingerprint) == 0 {
			t.Fatalf("work.registered entry %+v", reg)
		}
		for _, s := range reg.Subjects {
			if s.Role == "author" && s.ID != e.Users["li.teacher"].ID {
				t.Fatalf("author subject %+v", s)
			}
		}
		verifyEntry(t, e, entries["work.published"][0], rights.WorkPublished)

		// A student finds it, claims it (once), downloads it.
		seen, err := e.M.Resource(anon, pub.ID)
		wantCode(t, err, "")
		if seen.Meta.Title != "勾股定理教学设计" || seen.Author != "李老师" || len(seen.Files) != 1 {
			t.Fatalf("public view %+v", seen)
		}
		lic, created, err := e.M.Claim(student, pub.ID)
		wantCode(t, err, "")
		again, createdAgain, err := e.M.Claim(student, pub.ID)
		wantCode(t, err, "")
		if !created || createdAgain || again.ID != lic.ID || lic.Scope != market.ScopeFree {
			t.Fatalf("claims: %+v (%v) then %+v (%v)", lic, created, again, createdAgain)
		}
		_, _, err = e.M.Claim(e.As(t, "zhang.xiaohong"), pub.ID)
		wantCode(t, err, market.CodeForbidden) // under 14 without consent
		_, _, err = e.M.Claim(anon, pub.ID)
		wantCode(t, err, market.CodeUnauthenticated)
		f, err := e.M.Download(student, pub.ID, "")
		wantCode(t, err, "")
		if f.SHA256 != draft.Files[0].SHA256 {
			t.Fatalf("download %+v", f)
		}
		e.M.Download(student, pub.ID, "")
		e.M.Download(li, pub.ID, "") // the author's own downloads do not count
		if r, _ := e.M.Resource(anon, pub.ID); r.Downloads != 1 {
			t.Fatalf("downloads = %d, want 1 (distinct users, author excluded)", r.Downloads)
		}
		grantIdx := waitIndexed(t, e, "license.granted:"+lic.ID)
		grant := verifyEntry(t, e, grantIdx, rights.LicenseGranted)
		if grant.License == nil || grant.License.Code != "cc-by-sa" {
			t.Fatalf("licence entry %+v", grant)
		}

		// A second teacher derives from it: share-alike is enforced.
		derived := lessonMeta("勾股定理分层练习", "cc-by")
		derived.Type, derived.Parents = "练习", []string{pub.ID}
		_, err = e.M.CreateResource(chen, derived, []market.Upload{textUpload("练习.txt", "勾股定理分层练习：基础题、提高题、拓展题各五道。")})
		wantCode(t, err, "")
		drafts, err := e.M.MyResources(chen, market.StatusDraft, market.Paging{})
		wantCode(t, err, "")
		child := drafts.Items[0].ID
		_, err = e.M.Submit(chen, child, true)
		if err == nil || !strings.Contains(err.Error(), "share-alike") {
			t.Fatalf("submit of an SA derivative under cc-by: %v", err)
		}
		sa := "cc-by-sa"
		_, err = e.M.UpdateResource(chen, child, market.MetaPatch{Offer: &market.Offer{License: sa}}, nil)
		wantCode(t, err, "")
		_, err = e.M.Submit(chen, child, true)
		wantCode(t, err, "")
		_, err = e.M.Decide(e.As(t, "zhou.reviewer"), child, approve)
		wantCode(t, err, "")
		parentView, _ := e.M.Resource(anon, pub.ID)
		if len(parentView.Derivatives) != 1 || parentView.Derivatives[0].ID != child {
			t.Fatalf("derivatives of the parent: %+v", parentView.Derivatives)
		}
		childEntries := ledgerOf(t, e, anon, child)
		childReg := verifyEntry(t, e, childEntries["work.registered"][0], rights.WorkRegistered)
		if len(childReg.Parents) != 1 || childReg.Parents[0].Index != entries["work.registered"][0] {
			t.Fatalf("derivative's parents in the ledger: %+v", childReg.Parents)
		}

		// li.teacher complains about the derivative, citing its own registration.
		_, _, err = e.M.Claim(e.As(t, "sun.student"), child)
		wantCode(t, err, "")
		evidence := entries["work.registered"][0]
		_, err = e.M.FileComplaint(li, child, "短", nil)
		wantCode(t, err, market.CodeInvalid)
		_, err = e.M.FileComplaint(li, child, "抄袭了我的教学设计中的例题", ptr(childEntries["work.registered"][0]))
		wantCode(t, err, market.CodeInvalid) // that entry names chen, not li
		c, err := e.M.FileComplaint(li, child, "抄袭了我的教学设计中的例题", &evidence)
		wantCode(t, err, "")
		_, err = e.M.DecideComplaint(e.As(t, "xiaoxue.admin"), c.ID, "uphold", "属实")
		wantCode(t, err, market.CodeForbidden)
		admin := e.As(t, "admin")
		list, err := e.M.Complaints(admin, "open", market.Paging{})
		wantCode(t, err, "")
		if list.Total != 1 || list.Items[0].Title != "勾股定理分层练习" {
			t.Fatalf("open complaints %+v", list)
		}
		decided, err := e.M.DecideComplaint(admin, c.ID, "uphold", "经核实，例题与原作一致")
		wantCode(t, err, "")
		if decided.Status != "upheld" {
			t.Fatalf("complaint %+v", decided)
		}
		_, err = e.M.DecideComplaint(admin, c.ID, "dismiss", "again")
		wantCode(t, err, market.CodeConflict)
		_, err = e.M.Resource(anon, child)
		wantCode(t, err, market.CodeNotFound)
		mine, err := e.M.Resource(chen, child)
		wantCode(t, err, "")
		if mine.Status != market.StatusTakenDown {
			t.Fatalf("owner sees status %s", mine.Status)
		}
		down := ledgerOf(t, e, chen, child)
		if len(down["work.taken_down"]) != 1 {
			t.Fatalf("ledger after takedown %v", down)
		}
		verifyEntry(t, e, down["work.taken_down"][0], rights.WorkTakenDown)
		sunLicenses, err := e.M.MyLicenses(e.As(t, "sun.student"), market.Paging{})
		wantCode(t, err, "")
		if sunLicenses.Total != 1 || sunLicenses.Items[0].Status != market.LicenseRevoked {
			t.Fatalf("licences after takedown %+v", sunLicenses.Items)
		}
		revIdx := waitIndexed(t, e, "license.revoked:"+sunLicenses.Items[0].ID)
		rev := verifyEntry(t, e, revIdx, rights.LicenseRevoked)
		if rev.Reason != "complaint_upheld" || len(rev.Parents) != 1 {
			t.Fatalf("revocation entry %+v", rev)
		}
		_, err = e.M.Download(e.As(t, "sun.student"), child, "")
		wantCode(t, err, market.CodeNotFound)

		// Every state change is audited.
		audit, err := e.M.Audit(admin, market.AuditFilter{}, market.Paging{PerPage: 100})
		wantCode(t, err, "")
		seenActions := map[string]bool{}
		for _, a := range audit.Items {
			seenActions[a.Action] = true
		}
		for _, want := range []string{"resource.create", "resource.submit", "review.approve", "license.claim", "resource.update",
			"complaint.file", "complaint.uphold"} {
			if !seenActions[want] {
				t.Errorf("no %s in the audit log", want)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

func waitIndexed(t *testing.T, e *markettest.Env, key string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	idx, err := e.Ledger.WaitIndexed(ctx, key)
	if err != nil {
		t.Fatalf("ledger entry %s: %v", key, err)
	}
	return idx
}
