package stripe_test

// Against a real stripe-mock (.ci/with-stripe-mock). stripe-mock validates every request
// against Stripe's OpenAPI spec — unknown parameters, wrong types and values outside an enum
// are refused — and answers with fixtures, reflecting some parameters. It keeps no state, so
// these tests check that Stripe's API accepts the requests' shapes and that the adapter decodes
// real answers, not what Stripe would store.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"ziyuan/billing"
	"ziyuan/billing/stripe"
)

func TestStripeMockCheckout(t *testing.T) {
	base := stripeMockURL(t)
	cases := []struct {
		name string
		mod  func(*billing.CheckoutRequest)
	}{
		{"with expiry", func(*billing.CheckoutRequest) {}},
		{"clamped expiry", func(r *billing.CheckoutRequest) { r.ExpiresAt = time.Now().Add(72 * time.Hour) }},
		{"Stripe's default expiry", func(r *billing.CheckoutRequest) { r.ExpiresAt = time.Time{} }},
		{"one line", func(r *billing.CheckoutRequest) { r.Lines = r.Lines[:1] }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newProvider(t, base, func(cfg *stripe.Config) { cfg.Now = time.Now })
			req := checkoutRequest()
			req.ExpiresAt = time.Now().Add(2 * time.Hour)
			c.mod(&req)
			got, err := p.Checkout(context.Background(), req)
			if err != nil {
				t.Fatalf("Checkout: %v", err)
			}
			if got.Provider != "stripe" || !strings.HasPrefix(got.SessionID, "cs_") ||
				!strings.HasPrefix(got.RedirectURL, "https://checkout.stripe.com/") || got.ExpiresAt.IsZero() {
				t.Fatalf("Checkout = %+v; want a stripe session with ID, URL and expiry", got)
			}
		})
	}
}

func TestStripeMockRefundsAndPayouts(t *testing.T) {
	base := stripeMockURL(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		call   func(*stripe.Provider) (string, error)
		prefix string
	}{
		{"refund", func(p *stripe.Provider) (string, error) { return p.Refund(ctx, "pi_123", 990, "refund:ord_42:1") }, "re_"},
		{"create account", func(p *stripe.Provider) (string, error) { return p.CreateAccount(ctx, "seller_7", "li@example.cn") }, "acct_"},
		{"onboarding link", func(p *stripe.Provider) (string, error) {
			return p.OnboardingLink(ctx, "acct_123", "https://ziyuan.example/payouts/refresh", "https://ziyuan.example/payouts")
		}, "https://"},
		{"transfer", func(p *stripe.Provider) (string, error) {
			return p.Transfer(ctx, "acct_123", 891, "CNY", "ord_42", "transfer:ord_42:seller_7")
		}, "tr_"},
		{"reverse transfer", func(p *stripe.Provider) (string, error) {
			return p.ReverseTransfer(ctx, "tr_123", 400, "reverse:ord_42:1")
		}, "trr_"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := c.call(newProvider(t, base))
			if err != nil || !strings.HasPrefix(id, c.prefix) {
				t.Fatalf("= %q, %v; want an ID starting %q", id, err, c.prefix)
			}
		})
	}
}

// TestStripeMockRejections: real error answers are ErrRejected with Stripe's message and
// request ID (when there is one). stripe-mock refuses live keys and quotes the Authorization header in its
// message, which makes it a good test that the key is redacted.
func TestStripeMockRejections(t *testing.T) {
	base := stripeMockURL(t)
	const liveKey = "sk_live_ziyuanNOTaREALkey987"
	cases := []struct {
		name    string
		key     string
		call    func(*stripe.Provider) error
		mention string
		reqID   bool // stripe-mock sends no Request-Id with its 401s
	}{
		{"live key", liveKey, func(p *stripe.Provider) error {
			req := checkoutRequest()
			req.ExpiresAt = time.Now().Add(time.Hour)
			_, err := p.Checkout(context.Background(), req)
			return err
		}, "Please authenticate", false},
		{"unknown URL", testKey, func(p *stripe.Provider) error {
			// The slash is escaped by stripe-go; stripe-mock unescapes it into an unknown path.
			_, err := p.ReverseTransfer(context.Background(), "tr_1/x", 100, "k")
			return err
		}, "Unrecognized request URL", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var logs logBuffer
			p := newProvider(t, base, withLogger(&logs), func(cfg *stripe.Config) {
				cfg.SecretKey = c.key
				cfg.Now = time.Now
			})
			err := c.call(p)
			if !errors.Is(err, billing.ErrRejected) || !strings.Contains(err.Error(), c.mention) ||
				strings.Contains(err.Error(), "[request req_") != c.reqID {
				t.Fatalf("error = %v; want ErrRejected mentioning %q (and the request ID: %v)", err, c.mention, c.reqID)
			}
			if strings.Contains(err.Error(), c.key) || strings.Contains(logs.String(), c.key) {
				t.Fatalf("the key leaked:\nerror: %v\nlog: %s", err, logs.String())
			}
		})
	}
}
