package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"ziyuan/market"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
)

// TestStripeMockPayouts: a seller onboards (API and page), Stripe reports its account ready, a
// card order pays it by transfer, and a refund by line reverses part of it — every request to
// stripe-mock, which refuses what Stripe's API would. (stripe-mock answers every call with the
// same fixture IDs, so one seller, one transfer and one reversal are all it can tell apart;
// market's tests cover the rest against a fake with Stripe's idempotency.)
func TestStripeMockPayouts(t *testing.T) {
	storetest.Each(t, market.Schemas(), func(t *testing.T, db *store.DB) {
		e := stripeEnv(t, db)
		e.orderFixtures(t)
		second := sampleMeta("路由测试配套练习")
		second.Offer = market.Offer{License: "paid", Prices: &market.Prices{Personal: 4900}}
		e.fx["paid2"] = e.publishAs(t, "xuehai.vendor", second)
		vendor := e.tokens["xuehai.vendor"]

		// Students, parents and the like never onboard; sellers start with no account.
		for _, login := range []string{"zhang.xiaoming", "sun.student", "zhang.parent", "xiaoxue.admin"} {
			wantError(t, e.do(t, "POST", "/api/v1/me/payout-account", e.tokens[login], nil), 403, "forbidden")
			wantError(t, e.do(t, "GET", "/api/v1/me/payout-account", e.tokens[login], nil), 403, "forbidden")
		}
		var acct market.PayoutAccount
		decode(t, e.do(t, "GET", "/api/v1/me/payout-account", e.tokens["li.teacher"], nil), 200, &acct)
		if acct.Status != "none" || acct.AccountID != "" {
			t.Fatalf("before onboarding: %+v", acct)
		}
		b := e.browser()
		b.login(t, "li.teacher")
		if _, page := b.do(t, "GET", "/earnings", nil); !strings.Contains(page, "未开通") || !strings.Contains(page, "开通 Stripe 收款账户") {
			t.Fatalf("earnings page without an account:\n%s", page)
		}
		// Stripe's refresh URL never opens an account: back to the page and its button.
		if res, _ := b.do(t, "GET", "/earnings/payout-account", nil); res.StatusCode != 303 || res.Header.Get("Location") != "/earnings" {
			t.Fatalf("refresh without an account: %d %s", res.StatusCode, res.Header.Get("Location"))
		}

		decode(t, e.do(t, "POST", "/api/v1/me/payout-account", vendor, nil), 200, &acct)
		if !strings.HasPrefix(acct.AccountID, "acct_") || acct.Status != "pending" || acct.PayoutsEnabled || !strings.HasPrefix(acct.OnboardingURL, "https://") {
			t.Fatalf("onboarding: %+v", acct)
		}
		// The page's button, without JavaScript: a form post that redirects to Stripe.
		vb := e.browser()
		vb.login(t, "xuehai.vendor")
		if _, page := vb.do(t, "GET", "/earnings", nil); !strings.Contains(page, "待完善") || !strings.Contains(page, `action="/earnings/payout-account"`) {
			t.Fatalf("earnings page with an unfinished account:\n%s", page)
		}
		res, _ := vb.do(t, "POST", "/earnings/payout-account", map[string]string{"_csrf": vb.csrf(t, "/earnings")})
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "https://") {
			t.Fatalf("the button: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if res, _ := vb.do(t, "POST", "/earnings/payout-account", map[string]string{}); res.StatusCode != 403 {
			t.Fatalf("the button without a CSRF token: %d", res.StatusCode)
		}
		if res, _ := vb.do(t, "GET", "/earnings/payout-account", nil); res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "https://") {
			t.Fatalf("a fresh link: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if st := e.webhook(t, "evt_acct", "account.updated", fmt.Sprintf(`{"id":%q,"object":"account","payouts_enabled":true}`, acct.AccountID)); st != 200 {
			t.Fatalf("account.updated: %d", st)
		}
		decode(t, e.do(t, "GET", "/api/v1/me/payout-account", vendor, nil), 200, &acct)
		if acct.Status != "enabled" || !acct.PayoutsEnabled {
			t.Fatalf("after account.updated: %+v", acct)
		}
		if _, page := vb.do(t, "GET", "/earnings", nil); !strings.Contains(page, "已开通") || strings.Contains(page, `action="/earnings/payout-account"`) {
			t.Fatalf("earnings page with an active account:\n%s", page)
		}

		// A card order of two lines: the vendor's shares go to its account in one transfer.
		parent := e.tokens["zhang.parent"]
		req := market.OrderRequest{Provider: "stripe", Items: []market.OrderItemRequest{{ResourceID: e.fx["paid"], Scope: "personal"}, {ResourceID: e.fx["paid2"], Scope: "personal"}}}
		var o market.Order
		decode(t, e.do(t, "POST", "/api/v1/orders", parent, jsonBody(req), "Idempotency-Key", "payout-1"), 201, &o)
		e.webhook(t, "evt_paid", "checkout.session.completed", sessionObject(o.ID, "paid", o.AmountFen))
		if _, err := e.m.ProcessQueuedPayments(e.ctx()); err != nil {
			t.Fatal(err)
		}
		var earnings struct {
			BalanceFen int64 `json:"balance_fen"`
			Items      []struct {
				Kind      string `json:"kind"`
				AmountFen int64  `json:"amount_fen"`
			} `json:"items"`
		}
		decode(t, e.do(t, "GET", "/api/v1/me/earnings", vendor, nil), 200, &earnings)
		share := o.Items[0].SellerFen + o.Items[1].SellerFen
		if earnings.BalanceFen != 0 || len(earnings.Items) != 3 || earnings.Items[0].Kind != "payout" || earnings.Items[0].AmountFen != -share {
			t.Fatalf("after the transfer: %+v", earnings)
		}

		// Refunds by line: an amount that is not whole lines is refused; line 1 is refunded and
		// its part of the transfer reversed.
		admin := e.tokens["admin"]
		wantError(t, e.do(t, "POST", "/api/v1/orders/"+o.ID+"/refund", admin, jsonBody(map[string]any{"amount_fen": 1000})), 422, "unprocessable")
		wantError(t, e.do(t, "POST", "/api/v1/orders/"+o.ID+"/refund", admin, jsonBody(map[string]any{"lines": []int{1}, "amount_fen": 990})), 422, "unprocessable")
		wantError(t, e.do(t, "POST", "/api/v1/orders/"+o.ID+"/refund", admin, jsonBody(map[string]any{"lines": []int{7}})), 400, "invalid")
		wantError(t, e.do(t, "POST", "/api/v1/orders/"+o.ID+"/refund", admin, jsonBody(map[string]any{"line": 1})), 400, "invalid")
		wantError(t, e.do(t, "POST", "/api/v1/orders/"+o.ID+"/refund", e.tokens["zhang.xiaoming"], jsonBody(map[string]any{"lines": []int{1}})), 403, "forbidden")
		decode(t, e.do(t, "POST", "/api/v1/orders/"+o.ID+"/refund", admin, jsonBody(map[string]any{"lines": []int{1}, "amount_fen": 4900})), 200, &o)
		if o.Status != "partially_refunded" || o.RefundedFen != 4900 || o.Items[1].RefundedFen != 4900 || o.Items[0].RefundedFen != 0 {
			t.Fatalf("after refunding line 1: %+v", o)
		}
		for _, l := range o.Licenses {
			if want := map[string]string{e.fx["paid"]: "active", e.fx["paid2"]: "revoked"}[l.ResourceID]; l.Status != want {
				t.Fatalf("licence to %s is %s, want %s", l.ResourceID, l.Status, want)
			}
		}
		if _, err := e.m.ProcessQueuedPayments(e.ctx()); err != nil {
			t.Fatal(err)
		}
		var reversed int64
		e.db.Raw("SELECT reversed_fen FROM seller_transfers WHERE order_id = ?", o.ID).Scan(&reversed)
		decode(t, e.do(t, "GET", "/api/v1/me/earnings", vendor, nil), 200, &earnings)
		if reversed != o.Items[1].SellerFen || earnings.BalanceFen != 0 || earnings.Items[0].Kind != "payout" || earnings.Items[0].AmountFen != reversed {
			t.Fatalf("after the reversal (%d): %+v", reversed, earnings)
		}
		// Stripe's notification of the refund, replayed, changes nothing.
		charge := fmt.Sprintf(`{"id":"ch_1","object":"charge","amount_refunded":4900,"currency":"cny","payment_intent":"pi_%s","metadata":{}}`, o.ID[:8])
		e.webhook(t, "evt_refund_1", "charge.refunded", charge)
		e.webhook(t, "evt_refund_1b", "charge.refunded", charge)
		decode(t, e.do(t, "GET", "/api/v1/orders/"+o.ID, admin, nil), 200, &o)
		if o.Status != "partially_refunded" || o.RefundedFen != 4900 {
			t.Fatalf("after the notifications: %s %d", o.Status, o.RefundedFen)
		}
		// The page's refund form refunds the rest (no line ticked).
		ab := e.browser()
		ab.login(t, "admin")
		if _, page := ab.do(t, "GET", "/orders/"+o.ID, nil); !strings.Contains(page, `name="lines" value="0"`) || strings.Contains(page, `name="lines" value="1"`) {
			t.Fatalf("the order page's refund form:\n%s", page)
		}
		res, _ = ab.do(t, "POST", "/orders/"+o.ID+"/refund", map[string]string{"_csrf": ab.csrf(t, "/orders/"+o.ID)})
		if res.StatusCode != 303 {
			t.Fatalf("refunding the rest from the page: %d", res.StatusCode)
		}
		decode(t, e.do(t, "GET", "/api/v1/orders/"+o.ID, admin, nil), 200, &o)
		if o.Status != "refunded" || o.RefundedFen != o.AmountFen {
			t.Fatalf("after the page's refund: %s %d", o.Status, o.RefundedFen)
		}
	})
}

// Without Stripe, the earnings page offers no payout account.
func TestEarningsPageWithoutStripe(t *testing.T) {
	e := newEnv(t, openDB(t))
	b := e.browser()
	b.login(t, "xuehai.vendor")
	res, page := b.do(t, "GET", "/earnings", nil)
	if res.StatusCode != 200 || strings.Contains(page, "payout-account") || strings.Contains(page, "Stripe") {
		t.Fatalf("earnings page without Stripe (%d):\n%s", res.StatusCode, page)
	}
}
