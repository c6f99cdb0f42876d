package web_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"

	"ziyuan/market"
)

func TestOrdersOverHTTP(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		e.orderFixtures(t)
		req := market.OrderRequest{Provider: "invoice", PurchaseOrder: "PO-7",
			Items: []market.OrderItemRequest{{ResourceID: e.fx["paid"], Scope: "institution"}}}
		admin := e.tokens["xiaoxue.admin"]
		wantError(t, e.do(t, "POST", "/api/v1/orders", admin, jsonBody(req)), 400, "invalid") // no Idempotency-Key
		wantError(t, e.do(t, "POST", "/api/v1/orders", e.tokens["sun.student"], jsonBody(req), "Idempotency-Key", "s1"), 403, "forbidden")

		// Concurrent requests with one key make one order; all see it.
		var wg sync.WaitGroup
		ids := make([]string, 8)
		codes := make([]int, 8)
		for i := range 8 {
			wg.Go(func() {
				var o market.Order
				res := e.do(t, "POST", "/api/v1/orders", admin, jsonBody(req), "Idempotency-Key", "http-key")
				codes[i] = res.StatusCode
				decode(t, res, res.StatusCode, &o)
				ids[i] = o.ID
			})
		}
		wg.Wait()
		created := 0
		for i := range ids {
			if ids[i] != ids[0] || (codes[i] != 200 && codes[i] != 201) {
				t.Fatalf("request %d: %d %s (first %s)", i, codes[i], ids[i], ids[0])
			}
			if codes[i] == 201 {
				created++
			}
		}
		if created != 1 {
			t.Fatalf("%d requests reported a new order", created)
		}
		other := req
		other.PurchaseOrder = "PO-8"
		wantError(t, e.do(t, "POST", "/api/v1/orders", admin, jsonBody(other), "Idempotency-Key", "http-key"), 409, "conflict")

		var o market.Order
		decode(t, e.do(t, "POST", "/api/v1/orders/"+ids[0]+"/confirm", admin, jsonBody(map[string]string{"reference": "FIN-7"})), 200, &o)
		if o.Status != "paid" || len(o.Licenses) != 1 || o.Licenses[0].Scope != "institution" {
			t.Fatalf("confirmed order %+v", o)
		}
		// Any member of the school may now download the item.
		if res := e.do(t, "GET", "/api/v1/resources/"+e.fx["paid"]+"/download", e.tokens["li.teacher"], nil); res.StatusCode != 302 {
			t.Fatalf("download after an institution purchase: %d", res.StatusCode)
		}
		var earnings struct {
			BalanceFen int64 `json:"balance_fen"`
		}
		decode(t, e.do(t, "GET", "/api/v1/me/earnings", e.tokens["xuehai.vendor"], nil), 200, &earnings)
		if earnings.BalanceFen != 29900-5980 {
			t.Fatalf("vendor balance %d, want %d (20 %% fee)", earnings.BalanceFen, 29900-5980)
		}
	})
}

func TestEarningsStatement(t *testing.T) {
	e := newEnv(t, openDB(t))
	e.orderFixtures(t)
	if _, err := e.m.ConfirmOrder(e.As(t, "xiaoxue.admin"), e.fx["order"], "FIN-1"); err != nil {
		t.Fatal(err)
	}
	month := e.clock.Now().In(chinaTime()).Format("2006-01")
	b := e.browser()
	b.login(t, "xuehai.vendor")
	res, csvText := b.do(t, "GET", "/earnings/statement?format=csv&month="+month, nil)
	if res.StatusCode != 200 || !strings.HasPrefix(csvText, "\xEF\xBB\xBF日期,类型,订单号,资源,金额（元）,说明\r\n") ||
		!strings.Contains(csvText, "销售收入") || !strings.Contains(csvText, "239.20") || !strings.Contains(csvText, "期末余额,,,239.20") {
		t.Fatalf("CSV statement (%d):\n%q", res.StatusCode, csvText)
	}
	res, xlsx := b.do(t, "GET", "/earnings/statement?format=xlsx&month="+month, nil)
	if res.StatusCode != 200 {
		t.Fatalf("XLSX statement: %d", res.StatusCode)
	}
	f, err := excelize.OpenReader(bytes.NewReader([]byte(xlsx)))
	if err != nil {
		t.Fatalf("XLSX does not open: %v", err)
	}
	rows, _ := f.GetRows(month)
	panes, _ := f.GetPanes(month)
	if len(rows) != 4 || rows[0][0] != "日期" || !panes.Freeze || rows[2][4] != "¥239.20" {
		t.Fatalf("XLSX rows %q, frozen %v", rows, panes.Freeze)
	}
	res, _ = b.do(t, "GET", "/earnings/statement?format=pdf&month="+month, nil)
	if res.StatusCode != 400 {
		t.Fatalf("unknown format: %d", res.StatusCode)
	}
	res, _ = b.do(t, "GET", "/earnings/statement?month=2026-13", nil)
	if res.StatusCode != 400 {
		t.Fatalf("bad month: %d", res.StatusCode)
	}
}
