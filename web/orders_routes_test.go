package web_test

import (
	"testing"

	"ziyuan/market"
)

func init() { moreRouteCases = append(moreRouteCases, orderRouteCases) }

// orderFixtures adds a paid resource and two pending purchase orders of the primary school.
func (e *env) orderFixtures(t testing.TB) {
	t.Helper()
	meta := sampleMeta("路由测试精品课件")
	meta.Offer = market.Offer{License: "paid", Prices: &market.Prices{Personal: 990, Institution: 29900}}
	e.fx["paid"] = e.publishAs(t, "xuehai.vendor", meta)
	for _, name := range []string{"order", "order2"} {
		o, _, err := e.m.CreateOrder(e.As(t, "xiaoxue.admin"), name, market.OrderRequest{Provider: "invoice", PurchaseOrder: "PO-" + name,
			Items: []market.OrderItemRequest{{ResourceID: e.fx["paid"], Scope: "institution"}}})
		if err != nil {
			t.Fatal(err)
		}
		e.fx[name] = o.ID
	}
}

// sellersWithoutStripe: payout-account routes on a server without Stripe; anonymous gets
// signedOut (401 from the API, 303 to the login page).
func sellersWithoutStripe(signedOut int) statuses {
	return statuses{"anonymous": signedOut, "teacher": 404, "vendor": 404, "*": 403}
}

func orderRouteCases() []routeCase {
	admins := statuses{"anonymous": 401, "institution_admin": 200, "platform_admin": 200, "*": 403}
	pageAdmins := statuses{"anonymous": 303, "institution_admin": 303, "platform_admin": 303, "*": 403}
	return []routeCase{
		{method: "POST", pattern: "/api/v1/orders", path: fixed("/api/v1/orders"), headers: []string{"Idempotency-Key", "route-table"},
			body: func(e *env, _ string) *body {
				return jsonBody(market.OrderRequest{Provider: "invoice", PurchaseOrder: "PO-1",
					Items: []market.OrderItemRequest{{ResourceID: e.fx["paid"], Scope: "institution"}}})
			}, want: statuses{"anonymous": 401, "institution_admin": 201, "*": 403}},
		{method: "GET", pattern: "/api/v1/orders/:id", path: fx("/api/v1/orders/", "order"),
			want: statuses{"anonymous": 401, "institution_admin": 200, "platform_admin": 200, "*": 404}},
		{method: "POST", pattern: "/api/v1/orders/:id/confirm", path: fx("/api/v1/orders/", "order", "/confirm"),
			body: func(*env, string) *body { return jsonBody(map[string]string{"reference": "FIN-1"}) }, want: admins},
		{method: "POST", pattern: "/api/v1/orders/:id/refund", path: fx("/api/v1/orders/", "order", "/refund"), want: adminOnly},
		{method: "POST", pattern: "/api/v1/billing/stripe/webhook", path: fixed("/api/v1/billing/stripe/webhook"),
			body: func(*env, string) *body { return rawBody("application/json", `{"id":"evt_1"}`) }, want: statuses{"*": 404}},
		{method: "GET", pattern: "/api/v1/me/orders", path: fixed("/api/v1/me/orders"), want: statuses{"anonymous": 401, "*": 200}},
		{method: "GET", pattern: "/api/v1/me/earnings", path: fixed("/api/v1/me/earnings"), want: statuses{"anonymous": 401, "*": 200}},
		// Without Stripe there is no payout account to have: sellers get not_found, everyone
		// else (students above all) forbidden. stripe_test.go covers them with Stripe.
		{method: "GET", pattern: "/api/v1/me/payout-account", path: fixed("/api/v1/me/payout-account"), want: sellersWithoutStripe(401)},
		{method: "POST", pattern: "/api/v1/me/payout-account", path: fixed("/api/v1/me/payout-account"), want: sellersWithoutStripe(401)},

		{method: "GET", pattern: "/resources/:id/buy", page: true, path: fx("/resources/", "paid", "/buy"), want: statuses{"anonymous": 303, "*": 200}},
		{method: "POST", pattern: "/resources/:id/buy", page: true, path: fx("/resources/", "paid", "/buy"),
			body: func(_ *env, role string) *body {
				return form("scope", "institution", "provider", "invoice", "purchase_order", "PO-page", "key", "page-"+role)
			}, want: statuses{"anonymous": 303, "institution_admin": 303, "*": 403}},
		{method: "GET", pattern: "/orders", page: true, path: fixed("/orders"), want: statuses{"anonymous": 303, "*": 200}},
		{method: "GET", pattern: "/orders/:id", page: true, path: fx("/orders/", "order2"),
			want: statuses{"anonymous": 303, "institution_admin": 200, "platform_admin": 200, "*": 404}},
		{method: "POST", pattern: "/orders/:id/confirm", page: true, path: fx("/orders/", "order2", "/confirm"),
			body: func(*env, string) *body { return form("reference", "FIN-2") }, want: pageAdmins},
		{method: "POST", pattern: "/orders/:id/refund", page: true, path: fx("/orders/", "order2", "/refund"), body: func(*env, string) *body { return form() },
			want: statuses{"anonymous": 303, "platform_admin": 303, "*": 403}},
		{method: "GET", pattern: "/earnings", page: true, path: fixed("/earnings"), want: statuses{"anonymous": 303, "*": 200}},
		{method: "GET", pattern: "/earnings/statement", page: true, path: fixed("/earnings/statement?month=2026-09&format=csv"), want: statuses{"anonymous": 303, "*": 200}},
		{method: "POST", pattern: "/earnings/payout-account", page: true, path: fixed("/earnings/payout-account"), body: func(*env, string) *body { return form() },
			want: sellersWithoutStripe(303)},
		{method: "GET", pattern: "/earnings/payout-account", page: true, path: fixed("/earnings/payout-account"), want: sellersWithoutStripe(303)},
	}
}
