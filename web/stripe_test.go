package web_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"ziyuan/billing"
	"ziyuan/billing/stripe"
	"ziyuan/market"
	"ziyuan/market/store"
	"ziyuan/market/store/storetest"
)

const webhookSecret = "whsec_ziyuan_test_secret"

// stripeMock returns the stripe-mock URL that `make test` starts (.ci/with-stripe-mock).
func stripeMock(t *testing.T) string {
	t.Helper()
	u := os.Getenv("ZIYUAN_TEST_STRIPE")
	if u == "" {
		if os.Getenv("ZIYUAN_REQUIRE_STRIPE") == "1" {
			t.Fatal("ZIYUAN_TEST_STRIPE is not set but ZIYUAN_REQUIRE_STRIPE=1: run the tests with `make test`")
		}
		t.Skip("stripe-mock tests skipped: run them with `.ci/with-stripe-mock go test ./web/` (make test does)")
	}
	return u
}

// stripeEnv is a server whose market can take card payments through stripe-mock.
func stripeEnv(t *testing.T, db *store.DB) *env {
	base := stripeMock(t)
	var e *env
	// The adapter clamps checkout expiry against its clock: give it the market's test clock.
	p, err := stripe.New(stripe.Config{SecretKey: "sk_test_123", WebhookSecret: webhookSecret, APIBase: base,
		Now: func() time.Time { return e.clock.Now() }})
	if err != nil {
		t.Fatal(err)
	}
	e = newEnvWith(t, db, func(o *market.Options) { o.Providers = map[string]billing.Provider{"stripe": p} })
	return e
}

// stripeEvent renders and signs a Stripe event the way Stripe sends it.
func stripeEvent(t *testing.T, id, typ, object string) (payload []byte, header string) {
	t.Helper()
	payload = []byte(fmt.Sprintf(`{"id":%q,"object":"event","api_version":"2023-10-16","created":%d,"livemode":false,`+
		`"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":%q,"data":{"object":%s}}`,
		id, time.Now().Unix(), typ, object))
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: webhookSecret, Timestamp: time.Now()})
	return payload, signed.Header
}

func sessionObject(orderID, status string, amount int64) string {
	return fmt.Sprintf(`{"id":"cs_test_%s","object":"checkout.session","mode":"payment","client_reference_id":%q,"metadata":{"order_id":%q},`+
		`"payment_status":%q,"amount_total":%d,"currency":"cny","payment_intent":"pi_%s"}`, orderID[:8], orderID, orderID, status, amount, orderID[:8])
}

func (e *env) webhook(t *testing.T, id, typ, object string) int {
	t.Helper()
	payload, header := stripeEvent(t, id, typ, object)
	res := e.do(t, "POST", "/api/v1/billing/stripe/webhook", "", &body{"application/json", payload}, "Stripe-Signature", header)
	res.Body.Close()
	if _, err := e.m.ProcessPaymentEvents(e.ctx()); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode
}

// TestStripeMockCheckoutAndWebhooks: a card order through stripe-mock, then the webhooks Stripe
// would send — including replays, duplicates, out-of-order and forged ones.
func TestStripeMockCheckoutAndWebhooks(t *testing.T) {
	storetest.Each(t, market.Schemas(), func(t *testing.T, db *store.DB) {
		e := stripeEnv(t, db)
		e.orderFixtures(t)
		parent := e.tokens["zhang.parent"]
		req := market.OrderRequest{Provider: "stripe", BeneficiaryID: e.users["zhang.xiaoming"].ID,
			Items: []market.OrderItemRequest{{ResourceID: e.fx["paid"], Scope: "personal"}}}
		var o market.Order
		decode(t, e.do(t, "POST", "/api/v1/orders", parent, jsonBody(req), "Idempotency-Key", "card-1"), 201, &o)
		if o.Status != "pending" || o.CheckoutURL == "" || o.AmountFen != 990 {
			t.Fatalf("card order %+v", o)
		}
		licences := func(id string) []market.License {
			var got market.Order
			decode(t, e.do(t, "GET", "/api/v1/orders/"+id, parent, nil), 200, &got)
			if got.Status == "" {
				t.Fatal("no order")
			}
			o = got
			return got.Licenses
		}

		// A forged notification changes nothing.
		payload, _ := stripeEvent(t, "evt_forged", "checkout.session.completed", sessionObject(o.ID, "paid", 990))
		res := e.do(t, "POST", "/api/v1/billing/stripe/webhook", "", &body{"application/json", payload}, "Stripe-Signature", "t=1,v1=deadbeef")
		if res.StatusCode != 400 || len(licences(o.ID)) != 0 {
			t.Fatalf("forged webhook: %d, %d licences", res.StatusCode, len(o.Licenses))
		}
		// Completed but unpaid (a delayed method): still nothing.
		if st := e.webhook(t, "evt_unpaid", "checkout.session.completed", sessionObject(o.ID, "unpaid", 990)); st != 200 || len(licences(o.ID)) != 0 {
			t.Fatalf("unpaid completion: %d %s", st, o.Status)
		}
		// Paid: one licence, for the child.
		if st := e.webhook(t, "evt_paid", "checkout.session.completed", sessionObject(o.ID, "paid", 990)); st != 200 {
			t.Fatalf("paid webhook: %d", st)
		}
		if l := licences(o.ID); o.Status != "paid" || len(l) != 1 || l[0].HolderID != e.users["zhang.xiaoming"].ID {
			t.Fatalf("after payment: %s %+v", o.Status, l)
		}
		// A replay, a duplicate with another ID and an out-of-order expiry change nothing more.
		e.webhook(t, "evt_paid", "checkout.session.completed", sessionObject(o.ID, "paid", 990))
		e.webhook(t, "evt_paid_again", "checkout.session.async_payment_succeeded", sessionObject(o.ID, "paid", 990))
		e.webhook(t, "evt_late_expiry", "checkout.session.expired", sessionObject(o.ID, "unpaid", 990))
		if l := licences(o.ID); o.Status != "paid" || len(l) != 1 {
			t.Fatalf("after replays: %s, %d licences", o.Status, len(l))
		}
		var stored int64
		e.db.Raw("SELECT COUNT(*) FROM payment_events").Scan(&stored)
		if stored != 4 {
			t.Fatalf("%d events stored, want 4 (unpaid, paid, paid again, late expiry; the replay and the forgery not)", stored)
		}
		var earnings struct {
			BalanceFen int64 `json:"balance_fen"`
		}
		decode(t, e.do(t, "GET", "/api/v1/me/earnings", e.tokens["xuehai.vendor"], nil), 200, &earnings)
		if earnings.BalanceFen != 792 {
			t.Fatalf("vendor balance %d, want 792 (990 less 20 %%)", earnings.BalanceFen)
		}

		// A refund from Stripe names only the payment: the licence is revoked, the seller debited.
		charge := fmt.Sprintf(`{"id":"ch_1","object":"charge","amount_refunded":990,"currency":"cny","payment_intent":"pi_%s","metadata":{}}`, o.ID[:8])
		if st := e.webhook(t, "evt_refund", "charge.refunded", charge); st != 200 {
			t.Fatalf("refund webhook: %d", st)
		}
		if l := licences(o.ID); o.Status != "refunded" || l[0].Status != "revoked" {
			t.Fatalf("after the refund: %s %+v", o.Status, l)
		}
		decode(t, e.do(t, "GET", "/api/v1/me/earnings", e.tokens["xuehai.vendor"], nil), 200, &earnings)
		if earnings.BalanceFen != 0 {
			t.Fatalf("vendor balance after the refund %d", earnings.BalanceFen)
		}

		// An order whose checkout expires grants nothing.
		var o2 market.Order
		decode(t, e.do(t, "POST", "/api/v1/orders", parent, jsonBody(req), "Idempotency-Key", "card-2"), 201, &o2)
		e.webhook(t, "evt_expired", "checkout.session.expired", sessionObject(o2.ID, "unpaid", 990))
		if l := licences(o2.ID); o.Status != "expired" || len(l) != 0 {
			t.Fatalf("expired checkout: %s, %d licences", o.Status, len(l))
		}
		// Students cannot buy, by card either.
		wantError(t, e.do(t, "POST", "/api/v1/orders", e.tokens["zhang.xiaoming"], jsonBody(req), "Idempotency-Key", "card-3"), 403, "forbidden")
	})
}
