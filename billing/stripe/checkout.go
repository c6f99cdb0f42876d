package stripe

import (
	"context"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v76"

	"ziyuan/billing"
)

// Stripe accepts a Checkout Session's expires_at only between 30 minutes and 24 hours after
// creation. The margins keep a value computed here inside that window by the time Stripe
// receives it, even with a slow request or a slightly skewed clock.
const (
	minCheckoutLife = 30*time.Minute + time.Minute
	maxCheckoutLife = 24*time.Hour - time.Minute
	// Stripe limits client_reference_id to 200 characters; metadata values are longer.
	maxOrderID = 200
	// The bounds billing's money code works in; they also keep the total from overflowing.
	maxAmountFen = 1e12
	maxQuantity  = 1e6
)

// CheckoutIdempotencyKey is the key a checkout for an order is created under: retries of the
// same order (a double click, a retried request after a timeout) get the same session from
// Stripe instead of a second one the buyer might also pay. Stripe keeps keys for 24 hours.
func CheckoutIdempotencyKey(orderID string) string { return "checkout:order:" + orderID }

// Checkout creates a Checkout Session in payment mode for an order: one CNY line per request
// line (price_data in fen, named after the resource), the order ID as client_reference_id and
// in the metadata of the session and of its payment intent (so refunds and disputes, which
// concern charges, can be traced back to the order too), and the order ID as the payment's
// transfer group, which ties sellers' transfers to it.
//
// ExpiresAt is clamped into Stripe's window (30 min–24 h from now); zero leaves Stripe's
// default of 24 hours. An ExpiresAt already in the past is refused: the order has expired.
// Because the idempotency key is per order, retrying with different parameters (another
// price, or an ExpiresAt that had to be clamped and so moves with the clock) within 24 hours
// is refused by Stripe as an idempotency conflict (billing.ErrRejected); callers should pass
// the order's stored expiry, which is sent unchanged when it lies inside the window.
func (p *Provider) Checkout(ctx context.Context, req billing.CheckoutRequest) (billing.Checkout, error) {
	const op = "create checkout session"
	if req.OrderID == "" || len(req.OrderID) > maxOrderID {
		return billing.Checkout{}, rejectLocally(op, "order ID must be 1–%d characters", maxOrderID)
	}
	currency := strings.ToLower(req.Currency)
	if currency == "" {
		currency = "cny"
	}
	if currency != "cny" {
		// Amounts are in fen; another currency would need another minor unit.
		return billing.Checkout{}, rejectLocally(op, "currency %q is not CNY", req.Currency)
	}
	if len(req.Lines) == 0 {
		return billing.Checkout{}, rejectLocally(op, "no lines")
	}
	if req.SuccessURL == "" || req.CancelURL == "" {
		return billing.Checkout{}, rejectLocally(op, "success and cancel URLs are required")
	}
	params := &stripego.CheckoutSessionParams{
		Mode:              stripego.String(string(stripego.CheckoutSessionModePayment)),
		ClientReferenceID: stripego.String(req.OrderID),
		SuccessURL:        stripego.String(req.SuccessURL),
		CancelURL:         stripego.String(req.CancelURL),
		Metadata:          map[string]string{"order_id": req.OrderID},
		PaymentIntentData: &stripego.CheckoutSessionPaymentIntentDataParams{
			Metadata:      map[string]string{"order_id": req.OrderID},
			TransferGroup: stripego.String(req.OrderID),
		},
	}
	var total int64
	for i, l := range req.Lines {
		if l.Name == "" || l.AmountFen < 0 || l.AmountFen > maxAmountFen || l.Quantity < 1 || l.Quantity > maxQuantity {
			return billing.Checkout{}, rejectLocally(op, "line %d needs a name, an amount of 0–10^12 fen and a quantity of 1–10^6", i)
		}
		// Bounded factors and a bounded running total keep the sum from overflowing.
		if total += l.AmountFen * l.Quantity; total > maxAmountFen {
			return billing.Checkout{}, rejectLocally(op, "the order total exceeds 10^12 fen")
		}
		params.LineItems = append(params.LineItems, &stripego.CheckoutSessionLineItemParams{
			PriceData: &stripego.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripego.String(currency),
				UnitAmount:  stripego.Int64(l.AmountFen),
				ProductData: &stripego.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripego.String(l.Name)},
			},
			Quantity: stripego.Int64(l.Quantity),
		})
	}
	if total <= 0 {
		// A free order needs no payment; Stripe would refuse a zero-amount session anyway.
		return billing.Checkout{}, rejectLocally(op, "the order total is zero")
	}
	if !req.ExpiresAt.IsZero() {
		now := p.now()
		if !req.ExpiresAt.After(now) {
			return billing.Checkout{}, rejectLocally(op, "the order expired at %s", req.ExpiresAt.UTC().Format(time.RFC3339))
		}
		params.ExpiresAt = stripego.Int64(clampExpiry(now, req.ExpiresAt).Unix())
	}
	prepare(ctx, &params.Params, CheckoutIdempotencyKey(req.OrderID))
	s, err := p.api.CheckoutSessions.New(params)
	if err != nil {
		return billing.Checkout{}, p.classify(op, err)
	}
	if s.ID == "" || s.URL == "" {
		return billing.Checkout{}, unreadable(op, "a session without ID or URL")
	}
	c := billing.Checkout{Provider: Name, SessionID: s.ID, RedirectURL: s.URL}
	if s.ExpiresAt > 0 {
		c.ExpiresAt = time.Unix(s.ExpiresAt, 0).UTC()
	}
	return c, nil
}

// clampExpiry moves want into [now+minCheckoutLife, now+maxCheckoutLife].
func clampExpiry(now, want time.Time) time.Time {
	if lo := now.Add(minCheckoutLife); want.Before(lo) {
		return lo
	}
	if hi := now.Add(maxCheckoutLife); want.After(hi) {
		return hi
	}
	return want
}
