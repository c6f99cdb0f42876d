package market_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"ziyuan/billing"
	"ziyuan/market"
	"ziyuan/market/markettest"
)

// paidLesson publishes a paid item by the vendor with the given prices.
func paidLesson(t *testing.T, e *markettest.Env, title string, p market.Prices) market.Resource {
	t.Helper()
	meta := lessonMeta(title, "paid")
	meta.Offer.Prices = &p
	return publish(t, e, "xuehai.vendor", meta, textUpload(title+".txt", title+"：精品课件内容与配套练习。"))
}

// classStudents imports n verified students into the primary school and returns their IDs.
func classStudents(t *testing.T, e *markettest.Env, n int) []string {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("login,name,role,password,birth_date\n")
	for i := range n {
		fmt.Fprintf(&csv, "class.%02d,学生%02d,student,Stud2026a,2010-01-01\n", i, i)
	}
	if _, err := e.M.ImportRoster(e.As(t, "xiaoxue.admin"), e.Insts["2111010801"], []byte(csv.String())); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, n)
	for i := range n {
		u, err := e.M.Login(context.Background(), fmt.Sprintf("class.%02d", i), "Stud2026a")
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID
	}
	return ids
}

func TestInvoiceOrderForAClass(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		r := paidLesson(t, e, "勾股定理精品课件", market.Prices{Personal: 990, Classroom: 500, Institution: 29900})
		students := classStudents(t, e, 3)
		admin := e.As(t, "xiaoxue.admin")
		req := market.OrderRequest{Provider: "invoice", PurchaseOrder: "PO-2026-001",
			Items: []market.OrderItemRequest{{ResourceID: r.ID, Scope: "classroom", Beneficiaries: students}}}

		_, _, err := e.M.CreateOrder(e.As(t, "sun.student"), "k1", req)
		wantCode(t, err, market.CodeForbidden) // minors never pay
		_, _, err = e.M.CreateOrder(admin, "", req)
		wantCode(t, err, market.CodeInvalid) // the idempotency key is required
		o, created, err := e.M.CreateOrder(admin, "k1", req)
		wantCode(t, err, "")
		if !created || o.Status != "pending" || o.AmountFen != 1500 || len(o.Items) != 1 || o.Items[0].Quantity != 3 ||
			o.Items[0].FeeFen != 300 || o.Items[0].SellerFen != 1200 || !strings.Contains(o.Instructions, "PO-2026-001") {
			t.Fatalf("order %+v", o)
		}
		again, created, err := e.M.CreateOrder(admin, "k1", req)
		wantCode(t, err, "")
		if created || again.ID != o.ID {
			t.Fatalf("same key and body gave a new order")
		}
		other := req
		other.PurchaseOrder = "PO-2026-002"
		_, _, err = e.M.CreateOrder(admin, "k1", other)
		wantCode(t, err, market.CodeConflict)

		// Not paid yet: the students cannot download.
		_, err = e.M.Download(e.As(t, "class.00"), r.ID, "")
		wantCode(t, err, market.CodeForbidden)
		_, err = e.M.ConfirmOrder(e.As(t, "zhongxue.admin"), o.ID, "FIN-1")
		wantCode(t, err, market.CodeForbidden) // another school's admin
		paid, err := e.M.ConfirmOrder(admin, o.ID, "FIN-1")
		wantCode(t, err, "")
		if paid.Status != "paid" || len(paid.Licenses) != 3 || paid.PaymentRef != "FIN-1" {
			t.Fatalf("after confirming: %+v", paid)
		}
		if again, err := e.M.ConfirmOrder(admin, o.ID, "FIN-2"); err != nil || len(again.Licenses) != 3 || again.PaymentRef != "FIN-1" {
			t.Fatalf("confirming twice: %+v %v", again, err)
		}
		for _, login := range []string{"class.00", "class.01", "class.02"} {
			if _, err := e.M.Download(e.As(t, login), r.ID, ""); err != nil {
				t.Fatalf("%s cannot download after payment: %v", login, err)
			}
		}
		_, err = e.M.Download(e.As(t, "zhang.xiaoming"), r.ID, "")
		wantCode(t, err, market.CodeForbidden) // not in the class
		for _, l := range paid.Licenses {
			verifyEntry(t, e, waitIndexed(t, e, "license.granted:"+l.ID), "license.granted")
		}
		vendor := e.As(t, "xuehai.vendor")
		bal, _, err := e.M.MyEarnings(vendor, market.Paging{})
		wantCode(t, err, "")
		if bal.BalanceFen != 1200 {
			t.Fatalf("vendor balance %d, want 1200", bal.BalanceFen)
		}

		// A refund revokes the licences and debits the seller.
		_, err = e.M.RefundOrder(admin, o.ID, market.RefundRequest{})
		wantCode(t, err, market.CodeForbidden)
		ref, err := e.M.RefundOrder(e.As(t, "admin"), o.ID, market.RefundRequest{})
		wantCode(t, err, "")
		if ref.Status != "refunded" || ref.RefundedFen != 1500 {
			t.Fatalf("after refund: %+v", ref)
		}
		for _, l := range ref.Licenses {
			if l.Status != "revoked" {
				t.Fatalf("licence %s still %s", l.ID, l.Status)
			}
			verifyEntry(t, e, waitIndexed(t, e, "license.revoked:"+l.ID), "license.revoked")
		}
		if _, err := e.M.RefundOrder(e.As(t, "admin"), o.ID, market.RefundRequest{}); err != nil {
			t.Fatalf("refunding twice: %v", err)
		}
		bal, _, _ = e.M.MyEarnings(vendor, market.Paging{})
		if bal.BalanceFen != 0 || len(bal.Transactions) != 2 {
			t.Fatalf("vendor balance after refund %d with %d transactions", bal.BalanceFen, len(bal.Transactions))
		}
		_, err = e.M.Download(e.As(t, "class.00"), r.ID, "")
		wantCode(t, err, market.CodeForbidden)
		// Balance transactions are append-only in the database itself.
		if err := e.DB.Exec("UPDATE balance_transactions SET amount_fen = 0").Error; err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("balance transactions can be changed: %v", err)
		}
	})
}

func TestOrderRules(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		r := paidLesson(t, e, "精品试卷", market.Prices{Personal: 990})
		free := publish(t, e, "li.teacher", lessonMeta("免费教案", "cc-by"), textUpload("free.txt", "免费教案内容"))
		parent, kid := e.As(t, "zhang.parent"), e.Users["zhang.xiaoming"]
		item := func(id, scope string) []market.OrderItemRequest {
			return []market.OrderItemRequest{{ResourceID: id, Scope: scope}}
		}
		cases := []struct {
			name string
			who  string
			req  market.OrderRequest
			code market.Code
		}{
			{"parent for ward by invoice", "zhang.parent", market.OrderRequest{Provider: "invoice", PurchaseOrder: "x", Items: item(r.ID, "personal"), BeneficiaryID: kid.ID}, market.CodeForbidden},
			{"unknown provider", "li.teacher", market.OrderRequest{Provider: "alipay", Items: item(r.ID, "personal")}, market.CodeInvalid},
			{"free item", "xiaoxue.admin", market.OrderRequest{Provider: "invoice", PurchaseOrder: "x", Items: item(free.ID, "personal")}, market.CodeInvalid},
			{"scope not sold", "xiaoxue.admin", market.OrderRequest{Provider: "invoice", PurchaseOrder: "x", Items: item(r.ID, "institution")}, market.CodeInvalid},
			{"bad scope", "xiaoxue.admin", market.OrderRequest{Provider: "invoice", PurchaseOrder: "x", Items: item(r.ID, "forever")}, market.CodeInvalid},
			{"no items", "xiaoxue.admin", market.OrderRequest{Provider: "invoice", PurchaseOrder: "x"}, market.CodeInvalid},
			{"no purchase order", "xiaoxue.admin", market.OrderRequest{Provider: "invoice", Items: item(r.ID, "personal")}, market.CodeInvalid},
			{"own item", "xuehai.vendor", market.OrderRequest{Provider: "invoice", PurchaseOrder: "x", Items: item(r.ID, "personal")}, market.CodeForbidden},
			{"unknown resource", "xiaoxue.admin", market.OrderRequest{Provider: "invoice", PurchaseOrder: "x", Items: item(market.NewID(), "personal")}, market.CodeNotFound},
			{"someone else's child", "li.teacher", market.OrderRequest{Provider: "invoice", PurchaseOrder: "x", Items: item(r.ID, "personal"), BeneficiaryID: kid.ID}, market.CodeForbidden},
			{"child without consent", "xiaoxue.admin", market.OrderRequest{Provider: "invoice", PurchaseOrder: "x", Items: item(r.ID, "personal"), BeneficiaryID: e.Users["zhang.xiaohong"].ID}, market.CodeInvalid},
		}
		for i, c := range cases {
			_, _, err := e.M.CreateOrder(e.As(t, c.who), fmt.Sprint("key-", i), c.req)
			if market.ErrorCode(err) != c.code || err == nil {
				t.Errorf("%s: err = %v, want %s", c.name, err, c.code)
			}
		}
		_ = parent
		var n int64
		e.DB.Raw("SELECT COUNT(*) FROM orders").Scan(&n)
		if n != 0 {
			t.Fatalf("%d orders left by refused requests", n)
		}
	})
}

func TestConcurrentOrdersWithOneKey(t *testing.T) {
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		r := paidLesson(t, e, "并发测试课件", market.Prices{Institution: 29900})
		admin := e.As(t, "xiaoxue.admin")
		req := market.OrderRequest{Provider: "invoice", PurchaseOrder: "PO-9", Items: []market.OrderItemRequest{{ResourceID: r.ID, Scope: "institution"}}}
		var wg sync.WaitGroup
		ids := make([]string, 12)
		errs := make([]error, 12)
		for i := range 12 {
			wg.Go(func() {
				o, _, err := e.M.CreateOrder(admin, "same-key", req)
				ids[i], errs[i] = o.ID, err
			})
		}
		wg.Wait()
		for i := range ids {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Fatalf("request %d: %q %v (first %q)", i, ids[i], errs[i], ids[0])
			}
		}
		var n int64
		e.DB.Raw("SELECT COUNT(*) FROM orders").Scan(&n)
		if n != 1 {
			t.Fatalf("%d orders for one key", n)
		}
		// An institution licence covers every member of the school.
		if _, err := e.M.ConfirmOrder(admin, ids[0], "FIN-9"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.M.Download(e.As(t, "li.teacher"), r.ID, ""); err != nil {
			t.Fatalf("a member of the school cannot download: %v", err)
		}
		_, err := e.M.Download(e.As(t, "chen.teacher"), r.ID, "")
		wantCode(t, err, market.CodeForbidden)
	})
}

// TestSharesAndBalancesReconcile is a property test: for random prices, fees and refunds, every
// line's fee and seller share sum to its amount, and each seller's balance equals its shares of
// the paid orders minus its shares of what was refunded.
func TestSharesAndBalancesReconcile(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 200 {
		fees := billing.Fees{TeacherBP: rng.IntN(3001), VendorBP: rng.IntN(5001)}
		amount := int64(1 + rng.IntN(1_000_000))
		for _, kind := range []billing.SellerKind{billing.SellerTeacher, billing.SellerVendor, billing.SellerPublic} {
			s, err := fees.Split(amount, kind)
			if err != nil || s.FeeFen+s.SellerFen != amount || s.FeeFen < 0 || s.SellerFen < 0 {
				t.Fatalf("round %d: %+v %v", round, s, err)
			}
		}
	}
	markettest.Each(t, func(t *testing.T, e *markettest.Env) {
		rng := rand.New(rand.NewPCG(3, 5))
		admin := e.As(t, "xiaoxue.admin")
		var want int64
		for i := range 6 {
			price := int64(100 + rng.IntN(50000))
			r := paidLesson(t, e, fmt.Sprintf("对账测试%d", i), market.Prices{Institution: price})
			o, _, err := e.M.CreateOrder(admin, fmt.Sprint("rec-", i), market.OrderRequest{Provider: "invoice", PurchaseOrder: "PO",
				Items: []market.OrderItemRequest{{ResourceID: r.ID, Scope: "institution"}}})
			if err != nil {
				t.Fatal(err)
			}
			if o.Items[0].FeeFen+o.Items[0].SellerFen != o.AmountFen {
				t.Fatalf("shares %+v do not sum to %d", o.Items[0], o.AmountFen)
			}
			if _, err := e.M.ConfirmOrder(admin, o.ID, fmt.Sprint("FIN-", i)); err != nil {
				t.Fatal(err)
			}
			want += o.Items[0].SellerFen
			if rng.IntN(2) == 0 {
				if _, err := e.M.RefundOrder(e.As(t, "admin"), o.ID, market.RefundRequest{}); err != nil {
					t.Fatal(err)
				}
				want -= o.Items[0].SellerFen
			}
		}
		bal, _, err := e.M.MyEarnings(e.As(t, "xuehai.vendor"), market.Paging{})
		if err != nil || bal.BalanceFen != want {
			t.Fatalf("vendor balance %d, want %d (%v)", bal.BalanceFen, want, err)
		}
	})
}
