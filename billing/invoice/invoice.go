// Package invoice is the embedded payment provider: an institution buys against a purchase
// order, is shown how to pay, and its admin confirms receipt with the finance reference. No
// money passes through Ziyuan's systems, so nothing here talks to the outside.
package invoice

import (
	"context"
	"fmt"
	"strings"

	"ziyuan/billing"
)

// Provider settles orders offline.
type Provider struct{}

// New returns the invoice provider.
func New() *Provider { return &Provider{} }

// Name implements billing.Provider.
func (*Provider) Name() string { return "invoice" }

// Checkout implements billing.Provider: the instructions name the order, the purchase order and
// the amount, in Chinese and English.
func (*Provider) Checkout(_ context.Context, req billing.CheckoutRequest) (billing.Checkout, error) {
	var total int64
	for _, l := range req.Lines {
		total += l.AmountFen * l.Quantity
	}
	amount := fmt.Sprintf("¥%d.%02d", total/100, total%100)
	var b strings.Builder
	fmt.Fprintf(&b, "请按采购单 %s 向平台账户支付 %s，付款备注填写订单号 %s。", req.PurchaseOrder, amount, req.OrderID)
	b.WriteString("款项到账后，由本机构管理员在订单页填写财务凭证号确认收款，授权随即生效。\n")
	fmt.Fprintf(&b, "Pay %s against purchase order %s, quoting order %s. ", amount, req.PurchaseOrder, req.OrderID)
	b.WriteString("Once the money arrives, your institution's admin confirms receipt with the finance reference on the order page, and the licences take effect.")
	return billing.Checkout{Provider: "invoice", SessionID: "po:" + req.OrderID, Instructions: b.String(), ExpiresAt: req.ExpiresAt}, nil
}
