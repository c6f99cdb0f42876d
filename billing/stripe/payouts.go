package stripe

import (
	"context"
	"strings"

	stripego "github.com/stripe/stripe-go/v76"
)

// Refund returns amountFen of a payment intent's payment. The amount is always explicit
// (Stripe would refund the rest when it is omitted, and the ledger must know exactly what was
// returned), and so is the idempotency key: a retried refund must not pay twice.
func (p *Provider) Refund(ctx context.Context, paymentIntentID string, amountFen int64, idempotencyKey string) (string, error) {
	const op = "refund"
	if paymentIntentID == "" || amountFen <= 0 || amountFen > maxAmountFen || idempotencyKey == "" {
		return "", rejectLocally(op, "needs a payment intent, an amount of 1–10^12 fen and an idempotency key")
	}
	params := &stripego.RefundParams{
		PaymentIntent: stripego.String(paymentIntentID),
		Amount:        stripego.Int64(amountFen),
	}
	prepare(ctx, &params.Params, idempotencyKey)
	r, err := p.api.Refunds.New(params)
	if err != nil {
		return "", p.classify(op, err)
	}
	if r.ID == "" {
		return "", unreadable(op, "a refund without ID")
	}
	return r.ID, nil
}

// AccountIdempotencyKey is the key a seller's Connect account is created under, so that a
// retried onboarding does not open a second account for the same seller.
func AccountIdempotencyKey(sellerID string) string { return "connect:account:seller:" + sellerID }

// CreateAccount opens a Connect Express account for a seller, in the configured country (see
// DefaultAccountCountry for why not CN), requesting only the transfers capability: sellers
// are paid by transfers from the platform and never take payments themselves. Stripe's
// hosted onboarding (OnboardingLink) collects everything else.
func (p *Provider) CreateAccount(ctx context.Context, sellerID, email string) (string, error) {
	const op = "create connect account"
	if sellerID == "" {
		return "", rejectLocally(op, "no seller ID")
	}
	params := &stripego.AccountParams{
		Type:    stripego.String(string(stripego.AccountTypeExpress)),
		Country: stripego.String(p.accountCountry),
		Capabilities: &stripego.AccountCapabilitiesParams{
			Transfers: &stripego.AccountCapabilitiesTransfersParams{Requested: stripego.Bool(true)},
		},
		Metadata: map[string]string{"seller_id": sellerID},
	}
	if email != "" {
		params.Email = stripego.String(email)
	}
	prepare(ctx, &params.Params, AccountIdempotencyKey(sellerID))
	a, err := p.api.Accounts.New(params)
	if err != nil {
		return "", p.classify(op, err)
	}
	if a.ID == "" {
		return "", unreadable(op, "an account without ID")
	}
	return a.ID, nil
}

// OnboardingLink returns a single-use Stripe-hosted onboarding URL for an account. Links
// expire within minutes, so none is cached and no idempotency key is used: each call must
// produce a fresh one (refreshURL is where Stripe sends a seller whose link has expired).
func (p *Provider) OnboardingLink(ctx context.Context, accountID, refreshURL, returnURL string) (string, error) {
	const op = "create onboarding link"
	if accountID == "" || refreshURL == "" || returnURL == "" {
		return "", rejectLocally(op, "needs an account, a refresh URL and a return URL")
	}
	params := &stripego.AccountLinkParams{
		Account:    stripego.String(accountID),
		Type:       stripego.String(string(stripego.AccountLinkTypeAccountOnboarding)),
		RefreshURL: stripego.String(refreshURL),
		ReturnURL:  stripego.String(returnURL),
	}
	prepare(ctx, &params.Params, "")
	l, err := p.api.AccountLinks.New(params)
	if err != nil {
		return "", p.classify(op, err)
	}
	if l.URL == "" {
		return "", unreadable(op, "an account link without URL")
	}
	return l.URL, nil
}

// Transfer pays a seller's share of an order to its connected account. The order ID is the
// transfer group (the same group the order's payment intent was created with, see Checkout)
// and is in the metadata, so Stripe's dashboard and reports tie the transfer to the sale.
func (p *Provider) Transfer(ctx context.Context, accountID string, amountFen int64, currency, orderID, idempotencyKey string) (string, error) {
	const op = "transfer"
	if accountID == "" || orderID == "" || amountFen <= 0 || amountFen > maxAmountFen || currency == "" || idempotencyKey == "" {
		return "", rejectLocally(op, "needs an account, an order, an amount of 1–10^12 fen, a currency and an idempotency key")
	}
	params := &stripego.TransferParams{
		Destination:   stripego.String(accountID),
		Amount:        stripego.Int64(amountFen),
		Currency:      stripego.String(strings.ToLower(currency)),
		TransferGroup: stripego.String(orderID),
		Metadata:      map[string]string{"order_id": orderID},
	}
	prepare(ctx, &params.Params, idempotencyKey)
	t, err := p.api.Transfers.New(params)
	if err != nil {
		return "", p.classify(op, err)
	}
	if t.ID == "" {
		return "", unreadable(op, "a transfer without ID")
	}
	return t.ID, nil
}

// ReverseTransfer takes amountFen of a transfer back from the seller's account after a
// refund, and returns the reversal's ID.
func (p *Provider) ReverseTransfer(ctx context.Context, transferID string, amountFen int64, idempotencyKey string) (string, error) {
	const op = "reverse transfer"
	if transferID == "" || amountFen <= 0 || amountFen > maxAmountFen || idempotencyKey == "" {
		return "", rejectLocally(op, "needs a transfer, an amount of 1–10^12 fen and an idempotency key")
	}
	params := &stripego.TransferReversalParams{
		ID:     stripego.String(transferID),
		Amount: stripego.Int64(amountFen),
	}
	prepare(ctx, &params.Params, idempotencyKey)
	r, err := p.api.TransferReversals.New(params)
	if err != nil {
		return "", p.classify(op, err)
	}
	if r.ID == "" {
		return "", unreadable(op, "a transfer reversal without ID")
	}
	return r.ID, nil
}
