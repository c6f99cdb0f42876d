package stripe_test

// The exact requests the adapter sends, checked against a recording server that answers
// with Stripe-shaped JSON. stripe-mock (mock_test.go) checks that the same requests are valid
// for Stripe's API spec; it cannot show what we sent.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	stripego "github.com/stripe/stripe-go/v76"

	"ziyuan/billing"
	"ziyuan/billing/stripe"
)

const sessionReply = `{"id":"cs_test_a1","object":"checkout.session","url":"https://checkout.stripe.com/c/pay/cs_test_a1","expires_at":1772355600,"payment_status":"unpaid","status":"open"}`

func checkoutRequest() billing.CheckoutRequest {
	return billing.CheckoutRequest{
		OrderID:  "ord_42",
		Currency: "CNY",
		Lines: []billing.Line{
			{Name: "三年级语文《秋天的雨》教案", AmountFen: 990, Quantity: 2},
			{Name: "课堂 PPT", AmountFen: 4900, Quantity: 1},
		},
		SuccessURL: "https://ziyuan.example/orders/ord_42?paid={CHECKOUT_SESSION_ID}",
		CancelURL:  "https://ziyuan.example/orders/ord_42",
		ExpiresAt:  testNow.Add(2 * time.Hour),
	}
}

func TestNewValidatesConfig(t *testing.T) {
	ok := stripe.Config{SecretKey: testKey, WebhookSecret: webhookSecret}
	cases := []struct {
		name string
		mod  func(*stripe.Config)
		err  string // "" means New succeeds
	}{
		{"defaults", func(*stripe.Config) {}, ""},
		{"restricted key", func(c *stripe.Config) { c.SecretKey = "rk_test_restrictedKEY" }, ""},
		{"stripe-mock base", func(c *stripe.Config) { c.APIBase = "http://127.0.0.1:12111" }, ""},
		{"no key", func(c *stripe.Config) { c.SecretKey = "" }, "no secret key"},
		{"publishable key", func(c *stripe.Config) { c.SecretKey = "pk_test_publishableKEY" }, "not a publishable one"},
		{"no webhook secret", func(c *stripe.Config) { c.WebhookSecret = "" }, "no webhook signing secret"},
		{"base without scheme", func(c *stripe.Config) { c.APIBase = "127.0.0.1:12111" }, "not an http(s) URL"},
		{"ftp base", func(c *stripe.Config) { c.APIBase = "ftp://example.com" }, "not an http(s) URL"},
		{"base with credentials", func(c *stripe.Config) { c.APIBase = "https://u:p@example.com" }, "without credentials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			c.mod(&cfg)
			p, err := stripe.New(cfg)
			if c.err == "" {
				if err != nil || p == nil || p.Name() != "stripe" {
					t.Fatalf("New = %v, %v; want a provider named stripe", p, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("New error = %v; want one containing %q", err, c.err)
			}
			if cfg.SecretKey != "" && strings.Contains(err.Error(), cfg.SecretKey) {
				t.Fatalf("error %q reveals the key", err)
			}
		})
	}
}

func TestCheckoutSendsTheSession(t *testing.T) {
	srv := newRecorder(t, reply{Status: 200, Body: sessionReply})
	p := newProvider(t, srv.URL)
	req := checkoutRequest()
	got, err := p.Checkout(context.Background(), req)
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	want := billing.Checkout{
		Provider:    "stripe",
		SessionID:   "cs_test_a1",
		RedirectURL: "https://checkout.stripe.com/c/pay/cs_test_a1",
		ExpiresAt:   time.Unix(1772355600, 0).UTC(),
	}
	if got != want {
		t.Fatalf("Checkout = %+v; want %+v", got, want)
	}
	reqs := srv.got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests; want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/v1/checkout/sessions" {
		t.Fatalf("request %s %s; want POST /v1/checkout/sessions", r.Method, r.Path)
	}
	for h, v := range map[string]string{
		"Idempotency-Key": "checkout:order:ord_42",
		"Authorization":   "Bearer " + testKey,
		"Stripe-Version":  "2023-10-16",
	} {
		if r.Header.Get(h) != v {
			t.Errorf("header %s = %q; want %q", h, r.Header.Get(h), v)
		}
	}
	wantForm := url.Values{
		"mode":                {"payment"},
		"client_reference_id": {"ord_42"},
		"success_url":         {req.SuccessURL},
		"cancel_url":          {req.CancelURL},
		"metadata[order_id]":  {"ord_42"},
		"payment_intent_data[metadata][order_id]":       {"ord_42"},
		"payment_intent_data[transfer_group]":           {"ord_42"},
		"expires_at":                                    {strconv.FormatInt(testNow.Add(2*time.Hour).Unix(), 10)},
		"line_items[0][price_data][currency]":           {"cny"},
		"line_items[0][price_data][unit_amount]":        {"990"},
		"line_items[0][price_data][product_data][name]": {"三年级语文《秋天的雨》教案"},
		"line_items[0][quantity]":                       {"2"},
		"line_items[1][price_data][currency]":           {"cny"},
		"line_items[1][price_data][unit_amount]":        {"4900"},
		"line_items[1][price_data][product_data][name]": {"课堂 PPT"},
		"line_items[1][quantity]":                       {"1"},
	}
	if !reflect.DeepEqual(r.Form, wantForm) {
		t.Errorf("form:\n got %v\nwant %v", r.Form, wantForm)
	}
}

func TestCheckoutClampsExpiry(t *testing.T) {
	cases := []struct {
		name string
		in   time.Time
		want string // expires_at sent; "" means none
	}{
		{"zero leaves Stripe's default", time.Time{}, ""},
		{"1 minute is raised to 31", testNow.Add(time.Minute), unix(testNow.Add(31 * time.Minute))},
		{"30 minutes is raised to 31", testNow.Add(30 * time.Minute), unix(testNow.Add(31 * time.Minute))},
		{"31 minutes is kept", testNow.Add(31 * time.Minute), unix(testNow.Add(31 * time.Minute))},
		{"2 hours is kept", testNow.Add(2 * time.Hour), unix(testNow.Add(2 * time.Hour))},
		{"23h59m is kept", testNow.Add(24*time.Hour - time.Minute), unix(testNow.Add(24*time.Hour - time.Minute))},
		{"24 hours is lowered", testNow.Add(24 * time.Hour), unix(testNow.Add(24*time.Hour - time.Minute))},
		{"a week is lowered", testNow.Add(7 * 24 * time.Hour), unix(testNow.Add(24*time.Hour - time.Minute))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newRecorder(t, reply{Status: 200, Body: sessionReply})
			req := checkoutRequest()
			req.ExpiresAt = c.in
			if _, err := newProvider(t, srv.URL).Checkout(context.Background(), req); err != nil {
				t.Fatalf("Checkout: %v", err)
			}
			form := srv.got()[0].Form
			if _, sent := form["expires_at"]; sent != (c.want != "") || form.Get("expires_at") != c.want {
				t.Fatalf("expires_at = %q (sent %v); want %q", form.Get("expires_at"), sent, c.want)
			}
		})
	}
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func TestCheckoutRefusesBadRequestsLocally(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*billing.CheckoutRequest)
	}{
		{"no order", func(r *billing.CheckoutRequest) { r.OrderID = "" }},
		{"order ID too long", func(r *billing.CheckoutRequest) { r.OrderID = strings.Repeat("x", 201) }},
		{"other currency", func(r *billing.CheckoutRequest) { r.Currency = "USD" }},
		{"no lines", func(r *billing.CheckoutRequest) { r.Lines = nil }},
		{"no success URL", func(r *billing.CheckoutRequest) { r.SuccessURL = "" }},
		{"no cancel URL", func(r *billing.CheckoutRequest) { r.CancelURL = "" }},
		{"unnamed line", func(r *billing.CheckoutRequest) { r.Lines[0].Name = "" }},
		{"negative amount", func(r *billing.CheckoutRequest) { r.Lines[0].AmountFen = -1 }},
		{"zero quantity", func(r *billing.CheckoutRequest) { r.Lines[0].Quantity = 0 }},
		{"huge amount", func(r *billing.CheckoutRequest) { r.Lines[0].AmountFen = 1e12 + 1 }},
		{"huge quantity", func(r *billing.CheckoutRequest) { r.Lines[0].Quantity = 1e6 + 1 }},
		{"total overflows the bound", func(r *billing.CheckoutRequest) {
			r.Lines = []billing.Line{{Name: "a", AmountFen: 1e12, Quantity: 1e6}}
		}},
		{"free order", func(r *billing.CheckoutRequest) {
			r.Lines = []billing.Line{{Name: "免费资源", AmountFen: 0, Quantity: 1}}
		}},
		{"already expired", func(r *billing.CheckoutRequest) { r.ExpiresAt = testNow.Add(-time.Second) }},
		{"expiring now", func(r *billing.CheckoutRequest) { r.ExpiresAt = testNow }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newRecorder(t, reply{Status: 200, Body: sessionReply})
			req := checkoutRequest()
			c.mod(&req)
			_, err := newProvider(t, srv.URL).Checkout(context.Background(), req)
			if !errors.Is(err, billing.ErrRejected) {
				t.Fatalf("Checkout error = %v; want ErrRejected", err)
			}
			if n := len(srv.got()); n != 0 {
				t.Fatalf("%d requests sent for an invalid checkout", n)
			}
		})
	}
}

func TestCheckoutDefaultsToCNY(t *testing.T) {
	srv := newRecorder(t, reply{Status: 200, Body: sessionReply})
	req := checkoutRequest()
	req.Currency = ""
	if _, err := newProvider(t, srv.URL).Checkout(context.Background(), req); err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	if c := srv.got()[0].Form.Get("line_items[0][price_data][currency]"); c != "cny" {
		t.Fatalf("currency %q; want cny", c)
	}
}

// TestPayoutRequests checks refunds and Connect calls: path, parameters, idempotency key and
// the ID decoded from the answer.
func TestPayoutRequests(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		call     func(*stripe.Provider) (string, error)
		path     string
		form     url.Values
		idemKey  string // "" means a fresh one per call (stripe-go generates it)
		body, id string
	}{
		{
			name:    "refund",
			call:    func(p *stripe.Provider) (string, error) { return p.Refund(ctx, "pi_123", 990, "refund:ord_42:1") },
			path:    "/v1/refunds",
			form:    url.Values{"payment_intent": {"pi_123"}, "amount": {"990"}},
			idemKey: "refund:ord_42:1",
			body:    `{"id":"re_1","object":"refund","amount":990,"status":"succeeded"}`, id: "re_1",
		},
		{
			name: "create account",
			call: func(p *stripe.Provider) (string, error) { return p.CreateAccount(ctx, "seller_7", "li@example.cn") },
			path: "/v1/accounts",
			form: url.Values{
				"type": {"express"}, "country": {"HK"}, "email": {"li@example.cn"},
				"capabilities[transfers][requested]": {"true"}, "metadata[seller_id]": {"seller_7"},
			},
			idemKey: "connect:account:seller:seller_7",
			body:    `{"id":"acct_1","object":"account","type":"express"}`, id: "acct_1",
		},
		{
			name: "create account without email",
			call: func(p *stripe.Provider) (string, error) { return p.CreateAccount(ctx, "seller_8", "") },
			path: "/v1/accounts",
			form: url.Values{
				"type": {"express"}, "country": {"HK"},
				"capabilities[transfers][requested]": {"true"}, "metadata[seller_id]": {"seller_8"},
			},
			idemKey: "connect:account:seller:seller_8",
			body:    `{"id":"acct_2","object":"account"}`, id: "acct_2",
		},
		{
			name: "onboarding link",
			call: func(p *stripe.Provider) (string, error) {
				return p.OnboardingLink(ctx, "acct_1", "https://ziyuan.example/payouts/refresh", "https://ziyuan.example/payouts")
			},
			path: "/v1/account_links",
			form: url.Values{
				"account": {"acct_1"}, "type": {"account_onboarding"},
				"refresh_url": {"https://ziyuan.example/payouts/refresh"}, "return_url": {"https://ziyuan.example/payouts"},
			},
			body: `{"object":"account_link","url":"https://connect.stripe.com/setup/e/acct_1/abc","expires_at":1772355600}`,
			id:   "https://connect.stripe.com/setup/e/acct_1/abc",
		},
		{
			name: "transfer",
			call: func(p *stripe.Provider) (string, error) {
				return p.Transfer(ctx, "acct_1", 891, "CNY", "ord_42", "transfer:ord_42:seller_7")
			},
			path: "/v1/transfers",
			form: url.Values{
				"destination": {"acct_1"}, "amount": {"891"}, "currency": {"cny"},
				"transfer_group": {"ord_42"}, "metadata[order_id]": {"ord_42"},
			},
			idemKey: "transfer:ord_42:seller_7",
			body:    `{"id":"tr_1","object":"transfer","amount":891}`, id: "tr_1",
		},
		{
			name: "reverse transfer",
			call: func(p *stripe.Provider) (string, error) {
				return p.ReverseTransfer(ctx, "tr_1", 400, "reverse:ord_42:1")
			},
			path:    "/v1/transfers/tr_1/reversals",
			form:    url.Values{"amount": {"400"}},
			idemKey: "reverse:ord_42:1",
			body:    `{"id":"trr_1","object":"transfer_reversal","amount":400,"transfer":"tr_1"}`, id: "trr_1",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newRecorder(t, reply{Status: 200, Body: c.body})
			id, err := c.call(newProvider(t, srv.URL))
			if err != nil || id != c.id {
				t.Fatalf("= %q, %v; want %q", id, err, c.id)
			}
			reqs := srv.got()
			if len(reqs) != 1 {
				t.Fatalf("%d requests; want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != c.path {
				t.Errorf("request %s %s; want POST %s", r.Method, r.Path, c.path)
			}
			if !reflect.DeepEqual(r.Form, c.form) {
				t.Errorf("form:\n got %v\nwant %v", r.Form, c.form)
			}
			if c.idemKey != "" {
				if k := r.Header.Get("Idempotency-Key"); k != c.idemKey {
					t.Errorf("Idempotency-Key %q; want %q", k, c.idemKey)
				}
				return
			}
			// A single-use link must never be replayed from Stripe's idempotency cache.
			if _, err := c.call(newProvider(t, srv.URL)); err != nil {
				t.Fatal(err)
			}
			reqs = srv.got()
			if k0, k1 := reqs[0].Header.Get("Idempotency-Key"), reqs[1].Header.Get("Idempotency-Key"); k0 == k1 {
				t.Errorf("two calls shared the idempotency key %q", k0)
			}
		})
	}
}

func TestAccountCountryIsConfigurable(t *testing.T) {
	srv := newRecorder(t, reply{Status: 200, Body: `{"id":"acct_sg","object":"account"}`})
	p := newProvider(t, srv.URL, func(c *stripe.Config) { c.AccountCountry = "SG" })
	if _, err := p.CreateAccount(context.Background(), "seller_9", ""); err != nil {
		t.Fatal(err)
	}
	if c := srv.got()[0].Form.Get("country"); c != "SG" {
		t.Fatalf("country %q; want SG", c)
	}
}

func TestPayoutsRefuseBadRequestsLocally(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		call func(*stripe.Provider) (string, error)
	}{
		{"refund without payment intent", func(p *stripe.Provider) (string, error) { return p.Refund(ctx, "", 100, "k") }},
		{"refund of nothing", func(p *stripe.Provider) (string, error) { return p.Refund(ctx, "pi_1", 0, "k") }},
		{"negative refund", func(p *stripe.Provider) (string, error) { return p.Refund(ctx, "pi_1", -5, "k") }},
		{"refund without key", func(p *stripe.Provider) (string, error) { return p.Refund(ctx, "pi_1", 100, "") }},
		{"account without seller", func(p *stripe.Provider) (string, error) { return p.CreateAccount(ctx, "", "a@b.c") }},
		{"link without account", func(p *stripe.Provider) (string, error) { return p.OnboardingLink(ctx, "", "https://r", "https://s") }},
		{"link without return URL", func(p *stripe.Provider) (string, error) { return p.OnboardingLink(ctx, "acct_1", "https://r", "") }},
		{"transfer without account", func(p *stripe.Provider) (string, error) { return p.Transfer(ctx, "", 100, "cny", "o", "k") }},
		{"transfer of nothing", func(p *stripe.Provider) (string, error) { return p.Transfer(ctx, "acct_1", 0, "cny", "o", "k") }},
		{"transfer without order", func(p *stripe.Provider) (string, error) { return p.Transfer(ctx, "acct_1", 100, "cny", "", "k") }},
		{"transfer without currency", func(p *stripe.Provider) (string, error) { return p.Transfer(ctx, "acct_1", 100, "", "o", "k") }},
		{"transfer without key", func(p *stripe.Provider) (string, error) { return p.Transfer(ctx, "acct_1", 100, "cny", "o", "") }},
		{"reversal without transfer", func(p *stripe.Provider) (string, error) { return p.ReverseTransfer(ctx, "", 100, "k") }},
		{"reversal of nothing", func(p *stripe.Provider) (string, error) { return p.ReverseTransfer(ctx, "tr_1", 0, "k") }},
		{"reversal without key", func(p *stripe.Provider) (string, error) { return p.ReverseTransfer(ctx, "tr_1", 100, "") }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newRecorder(t, reply{Status: 200, Body: `{"id":"x_1","url":"https://x"}`})
			if _, err := c.call(newProvider(t, srv.URL)); !errors.Is(err, billing.ErrRejected) {
				t.Fatalf("error = %v; want ErrRejected", err)
			}
			if n := len(srv.got()); n != 0 {
				t.Fatalf("%d requests sent for an invalid call", n)
			}
		})
	}
}

// TestErrorsAreClassified: Stripe's answers become ErrRejected (do not retry) or
// ErrUnavailable (try later), keep Stripe's message and request ID and the cause, and never
// show the secret key — not in the error, not in the log.
func TestErrorsAreClassified(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		body     string
		want     error
		contains []string
		stripe   bool // the cause is a *stripe.Error
	}{
		{"invalid request", 400, `{"error":{"type":"invalid_request_error","message":"Invalid currency: xyz","param":"currency"}}`,
			billing.ErrRejected, []string{"Invalid currency: xyz", "param currency", "req_recorded", "400"}, true},
		{"authentication echoing the key", 401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: ` + testKey + `"}}`,
			billing.ErrRejected, []string{"Invalid API Key provided: [secret key]", "401"}, true},
		{"declined card", 402, `{"error":{"type":"card_error","code":"card_declined","message":"Your card was declined."}}`,
			billing.ErrRejected, []string{"card_declined", "Your card was declined."}, true},
		{"missing object", 404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such payment_intent: 'pi_x'"}}`,
			billing.ErrRejected, []string{"resource_missing", "No such payment_intent"}, true},
		{"idempotency conflict", 400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}`,
			billing.ErrRejected, []string{"idempotency_error", "same parameters"}, true},
		{"request in flight with the same key", 409, `{"error":{"type":"idempotency_error","message":"There is currently another in-progress request using this Idempotent Key."}}`,
			billing.ErrUnavailable, []string{"409", "in-progress"}, true},
		{"rate limited", 429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests"}}`,
			billing.ErrUnavailable, []string{"429", "Too many requests", "req_recorded"}, true},
		{"internal error", 500, `{"error":{"type":"api_error","message":"Something went wrong on Stripe's end."}}`,
			billing.ErrUnavailable, []string{"500", "api_error"}, true},
		{"service unavailable", 503, `{"error":{"type":"api_error","message":"down"}}`,
			billing.ErrUnavailable, []string{"503"}, true},
		{"gateway error page", 502, `<html>Bad Gateway</html>`,
			billing.ErrUnavailable, []string{"502", "Bad Gateway"}, false},
		{"unreadable success", 200, `{"id":`,
			billing.ErrUnavailable, []string{"deserialize"}, false},
		{"success without URL", 200, `{"id":"cs_test_1","object":"checkout.session"}`,
			billing.ErrUnavailable, []string{"without ID or URL"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newRecorder(t, reply{Status: c.status, Body: c.body})
			var logs logBuffer
			_, err := newProvider(t, srv.URL, withLogger(&logs)).Checkout(context.Background(), checkoutRequest())
			if !errors.Is(err, c.want) {
				t.Fatalf("error = %v; want %v", err, c.want)
			}
			t.Log(err)
			other := billing.ErrUnavailable
			if c.want == billing.ErrUnavailable {
				other = billing.ErrRejected
			}
			if errors.Is(err, other) {
				t.Fatalf("error %v is both rejected and unavailable", err)
			}
			for _, s := range c.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			var se *stripego.Error
			if errors.As(err, &se) != c.stripe {
				t.Errorf("errors.As(*stripe.Error) = %v; want %v", !c.stripe, c.stripe)
			}
			if se != nil && strings.Contains(se.Error(), testKey) {
				t.Errorf("the unwrapped Stripe error reveals the key: %s", se.Error())
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(logs.String(), testKey) {
				t.Errorf("the secret key leaked:\nerror: %s\nlog: %s", err, logs.String())
			}
		})
	}
}

func TestTransportFailuresAreUnavailable(t *testing.T) {
	srv := newRecorder(t, reply{Status: 200, Body: sessionReply})
	closedURL := srv.URL
	srv.Close()
	_, err := newProvider(t, closedURL).Checkout(context.Background(), checkoutRequest())
	if !errors.Is(err, billing.ErrUnavailable) || strings.Contains(err.Error(), testKey) {
		t.Fatalf("closed server: error = %v; want ErrUnavailable without the key", err)
	}

	live := newRecorder(t, reply{Status: 200, Body: sessionReply})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = newProvider(t, live.URL).Refund(ctx, "pi_1", 100, "k")
	if !errors.Is(err, billing.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: error = %v; want ErrUnavailable wrapping context.Canceled", err)
	}
}

// TestRetriesKeepTheIdempotencyKey: stripe-go retries a 503; the retry must carry the same key,
// or Stripe could perform the operation twice.
func TestRetriesKeepTheIdempotencyKey(t *testing.T) {
	srv := newRecorder(t,
		reply{Status: 503, Body: `{"error":{"type":"api_error","message":"down"}}`},
		reply{Status: 200, Body: `{"id":"re_2","object":"refund"}`})
	p := newProvider(t, srv.URL, func(c *stripe.Config) { c.MaxNetworkRetries = 1 })
	id, err := p.Refund(context.Background(), "pi_1", 100, "refund:ord_1:1")
	if err != nil || id != "re_2" {
		t.Fatalf("Refund = %q, %v; want re_2 after one retry", id, err)
	}
	reqs := srv.got()
	if len(reqs) != 2 {
		t.Fatalf("%d requests; want 2", len(reqs))
	}
	for i, r := range reqs {
		if k := r.Header.Get("Idempotency-Key"); k != "refund:ord_1:1" {
			t.Errorf("attempt %d: Idempotency-Key %q", i, k)
		}
	}
}

// TestNoGlobalState: two providers with different keys and bases do not interfere, and
// stripe-go's global key stays untouched.
func TestNoGlobalState(t *testing.T) {
	a := newRecorder(t, reply{Status: 200, Body: `{"id":"re_a","object":"refund"}`})
	b := newRecorder(t, reply{Status: 200, Body: `{"id":"re_b","object":"refund"}`})
	pa := newProvider(t, a.URL)
	pb := newProvider(t, b.URL, func(c *stripe.Config) { c.SecretKey = "sk_test_otherACCOUNT" })
	done := make(chan error, 2)
	go func() { _, err := pa.Refund(context.Background(), "pi_a", 1, "ka"); done <- err }()
	go func() { _, err := pb.Refund(context.Background(), "pi_b", 2, "kb"); done <- err }()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if ra, rb := a.got(), b.got(); len(ra) != 1 || len(rb) != 1 ||
		ra[0].Header.Get("Authorization") != "Bearer "+testKey ||
		rb[0].Header.Get("Authorization") != "Bearer sk_test_otherACCOUNT" {
		t.Fatalf("requests went astray: a %+v, b %+v", ra, rb)
	}
	if stripego.Key != "" {
		t.Fatalf("stripe.Key was set globally")
	}
}
