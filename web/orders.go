package web

import (
	"bytes"
	"fmt"
	"math"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"ziyuan/market"
	"ziyuan/market/files"
)

// maxWebhookBody bounds a provider notification; Stripe's are a few kilobytes.
const maxWebhookBody = 256 << 10

func (s *Server) apiCreateOrder(c *fiber.Ctx) error {
	var req market.OrderRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	o, created, err := s.m.CreateOrder(c.UserContext(), c.Get("Idempotency-Key"), s.withReturn(c, req))
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(o)
}

// withReturn points a card checkout back at the order page on this site.
func (s *Server) withReturn(c *fiber.Ctx, req market.OrderRequest) market.OrderRequest {
	req.ReturnURL = c.BaseURL() + "/orders/"
	return req
}

func (s *Server) apiOrder(c *fiber.Ctx) error {
	o, err := s.m.Order(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(o)
}

type confirmRequest struct {
	Reference string `json:"reference"`
}

func (s *Server) apiConfirmOrder(c *fiber.Ctx) error {
	var req confirmRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	o, err := s.m.ConfirmOrder(c.UserContext(), c.Params("id"), req.Reference)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

// apiRefundOrder refunds lines of an order, or (without a body) all that is left of it.
func (s *Server) apiRefundOrder(c *fiber.Ctx) error {
	var req market.RefundRequest
	if len(bytes.TrimSpace(c.Body())) > 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	o, err := s.m.RefundOrder(c.UserContext(), c.Params("id"), req)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (s *Server) apiMyOrders(c *fiber.Ctx) error {
	p, err := paging(c)
	if err != nil {
		return err
	}
	page, err := s.m.MyOrders(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

func (s *Server) apiMyEarnings(c *fiber.Ctx) error {
	p, err := paging(c)
	if err != nil {
		return err
	}
	bal, total, err := s.m.MyEarnings(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"balance_fen": bal.BalanceFen, "currency": bal.Currency, "total": total, "items": bal.Transactions})
}

// apiStripeWebhook stores a verified Stripe event and answers at once; the event is applied
// from the stored copy (see market.ProcessPaymentEvents).
func (s *Server) apiStripeWebhook(c *fiber.Ctx) error {
	body := c.Body()
	if len(body) > maxWebhookBody {
		return market.Errorf(market.CodeTooLarge, market.MsgBodyTooLarge, "256 KiB")
	}
	ev, err := s.m.ReceiveWebhook(c.UserContext(), market.ProviderStripe, body, c.Get("Stripe-Signature"))
	if err != nil {
		return err
	}
	s.onPayment()
	return c.JSON(fiber.Map{"received": ev.ID})
}

type buyPage struct {
	R         market.Resource
	Prices    []scopePrice
	Wards     []market.User
	Students  []market.User
	Providers []string
	Key       string
	Admin     bool
}

// pageBuy shows what each licence scope allows and costs, and how to pay.
func (s *Server) pageBuy(c *fiber.Ctx) error {
	a, ok := signedIn(c)
	if !ok {
		return s.toLogin(c)
	}
	ctx := c.UserContext()
	r, err := s.m.Resource(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	d := buyPage{R: r, Key: market.NewID(), Admin: a.Has(market.RoleInstitutionAdmin), Providers: s.m.ProviderNames()}
	for _, sc := range market.PaidScopes {
		if p, ok := r.Meta.Offer.PriceFor(sc); ok {
			d.Prices = append(d.Prices, scopePrice{sc, p})
		}
	}
	if a.Has(market.RoleParent) {
		d.Wards, _ = s.m.Wards(ctx)
	}
	if (d.Admin || a.Has(market.RoleTeacher)) && a.InstitutionID != "" {
		if p, err := s.m.Users(ctx, market.UserFilter{InstitutionID: a.InstitutionID}, market.Paging{PerPage: market.MaxPerPage}); err == nil {
			for _, u := range p.Items {
				if u.Has(market.RoleStudent) && u.Verified {
					d.Students = append(d.Students, u)
				}
			}
		}
	}
	return s.render(c, fiber.StatusOK, "buy", "buy.title", pageData{Nav: "resource", Data: d, Title: loc{s.lang(c)}.T("buy.title") + "：" + r.Meta.Title})
}

func (s *Server) postBuy(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	students := formValues(c, "students")
	item := market.OrderItemRequest{ResourceID: c.Params("id"), Scope: c.FormValue("scope")}
	if item.Scope == market.ScopeClassroom {
		item.Beneficiaries = students
	}
	req := market.OrderRequest{Provider: c.FormValue("provider"), PurchaseOrder: c.FormValue("purchase_order"),
		BeneficiaryID: c.FormValue("beneficiary_id"), Items: []market.OrderItemRequest{item}}
	o, _, err := s.m.CreateOrder(c.UserContext(), c.FormValue("key"), s.withReturn(c, req))
	if err != nil {
		return err
	}
	if o.CheckoutURL != "" {
		return c.Redirect(o.CheckoutURL, fiber.StatusSeeOther)
	}
	return c.Redirect("/orders/"+o.ID, fiber.StatusSeeOther)
}

type orderPage struct {
	O          market.Order
	CanConfirm bool
	CanRefund  bool
}

func (s *Server) pageOrder(c *fiber.Ctx) error {
	a, ok := signedIn(c)
	if !ok {
		return s.toLogin(c)
	}
	o, err := s.m.Order(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	d := orderPage{O: o, CanConfirm: o.Provider == market.ProviderInvoice && o.Status == "pending" &&
		(a.Has(market.RoleInstitutionAdmin) || a.Has(market.RolePlatformAdmin)),
		CanRefund: a.Has(market.RolePlatformAdmin) && (o.Status == "paid" || o.Status == "partially_refunded")}
	flash := ""
	if done := c.Query("done"); done == "confirmed" || done == "refunded" {
		flash = loc{s.lang(c)}.T("done." + done)
	}
	return s.render(c, fiber.StatusOK, "order", "order.title", pageData{Nav: "orders", Data: d, Flash: flash})
}

func (s *Server) postConfirmOrder(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	id := c.Params("id")
	if _, err := s.m.ConfirmOrder(c.UserContext(), id, c.FormValue("reference")); err != nil {
		return err
	}
	return c.Redirect("/orders/"+id+"?done=confirmed", fiber.StatusSeeOther)
}

// postRefundOrder refunds the ticked lines of an order, or all that is left when none is.
func (s *Server) postRefundOrder(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	var req market.RefundRequest
	for _, v := range formValues(c, "lines") {
		line, err := strconv.Atoi(v)
		if err != nil {
			return market.Errorf(market.CodeInvalid, market.MsgFieldOneOf, "lines", v, "0, 1, 2, …")
		}
		req.Lines = append(req.Lines, line)
	}
	id := c.Params("id")
	if _, err := s.m.RefundOrder(c.UserContext(), id, req); err != nil {
		return err
	}
	return c.Redirect("/orders/"+id+"?done=refunded", fiber.StatusSeeOther)
}

// formValues returns every value of a repeated form field (checkboxes), from either encoding.
func formValues(c *fiber.Ctx, name string) []string {
	if form, err := c.MultipartForm(); err == nil && form != nil {
		return form.Value[name]
	}
	var out []string
	c.Context().PostArgs().VisitAll(func(k, v []byte) {
		if string(k) == name {
			out = append(out, string(v))
		}
	})
	return out
}

type ordersPage struct {
	Orders  market.Page[market.Order]
	Pending []market.Order
}

// pageOrders lists my orders; an institution admin also sees the purchase orders to confirm.
func (s *Server) pageOrders(c *fiber.Ctx) error {
	a, ok := signedIn(c)
	if !ok {
		return s.toLogin(c)
	}
	p, err := paging(c)
	if err != nil {
		return err
	}
	var d ordersPage
	if d.Orders, err = s.m.MyOrders(c.UserContext(), p); err != nil {
		return err
	}
	if a.Has(market.RoleInstitutionAdmin) {
		if d.Pending, err = s.m.PendingPurchaseOrders(c.UserContext()); err != nil {
			return err
		}
	}
	return s.render(c, fiber.StatusOK, "orders", "orders.title", pageData{Nav: "orders", Data: d})
}

type earningsPage struct {
	Balance market.Balance
	Total   int64
	Pages   int
	Month   string
	// Payouts is the seller's Stripe payout account; nil where there is none to have (Stripe
	// not configured, or not a seller).
	Payouts *market.PayoutAccount
}

func (s *Server) pageEarnings(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	p, err := paging(c)
	if err != nil {
		return err
	}
	bal, total, err := s.m.MyEarnings(c.UserContext(), p)
	if err != nil {
		return err
	}
	d := earningsPage{Balance: bal, Total: total, Month: s.clock().In(chinaTime).Format("2006-01")}
	switch acct, err := s.m.MyPayoutAccount(c.UserContext()); {
	case err == nil:
		d.Payouts = &acct
	case !market.IsCode(err, market.CodeNotFound) && !market.IsCode(err, market.CodeForbidden):
		return err
	}
	d.Pages = int(math.Ceil(float64(total) / float64(max(p.PerPage, 20))))
	return s.render(c, fiber.StatusOK, "earnings", "earnings.title", pageData{Nav: "earnings", Data: d})
}

// statement downloads a seller's monthly payout statement as CSV or XLSX.
func (s *Server) statement(c *fiber.Ctx) error {
	if _, ok := signedIn(c); !ok {
		return s.toLogin(c)
	}
	st, err := s.m.MyStatement(c.UserContext(), c.Query("month"))
	if err != nil {
		return err
	}
	l := loc{s.lang(c)}
	t := table{Sheet: st.Month, Header: []string{l.T("stmt.date"), l.T("stmt.kind"), l.T("stmt.order"), l.T("stmt.title"), l.T("stmt.amount"), l.T("stmt.reason")},
		Money: []int{4}}
	t.Rows = append(t.Rows, []any{"", l.T("stmt.opening"), "", "", st.OpeningFen, ""})
	for _, ln := range st.Lines {
		t.Rows = append(t.Rows, []any{ln.At.In(chinaTime).Format("2006-01-02 15:04"), l.T("bal." + ln.Kind), ln.OrderID, ln.Title, ln.AmountFen, l.Reason(ln.Reason)})
	}
	t.Rows = append(t.Rows, []any{"", l.T("stmt.closing"), "", "", st.ClosingFen, ""})
	name := fmt.Sprintf("ziyuan-statement-%s", st.Month)
	switch c.Query("format", "csv") {
	case "xlsx":
		c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		c.Set(fiber.HeaderContentDisposition, files.Attachment(name+".xlsx"))
		return writeXLSX(c.Response().BodyWriter(), t)
	case "csv":
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, files.Attachment(name+".csv"))
		return writeCSV(c.Response().BodyWriter(), t)
	}
	return market.Errorf(market.CodeInvalid, market.MsgFieldOneOf, "format", c.Query("format"), "csv, xlsx")
}
