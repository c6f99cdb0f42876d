package billing

import (
	"context"
	"errors"
	"time"
)

// Line is one item of a checkout: what the buyer sees and pays.
type Line struct {
	Name      string
	AmountFen int64 // unit price in fen
	Quantity  int64
}

// CheckoutRequest asks a provider to collect an order's payment.
type CheckoutRequest struct {
	OrderID    string
	Currency   string // ISO 4217, "CNY"
	Lines      []Line
	SuccessURL string
	CancelURL  string
	// ExpiresAt bounds how long the buyer may take (providers clamp it to what they allow).
	ExpiresAt time.Time
	// PurchaseOrder is the institution's purchase-order number (invoice provider).
	PurchaseOrder string
}

// Checkout is what the buyer does next: follow RedirectURL (card providers) or act on
// Instructions (offline settlement).
type Checkout struct {
	Provider     string
	SessionID    string
	RedirectURL  string
	Instructions string
	ExpiresAt    time.Time
}

// Provider turns an order into a checkout.
type Provider interface {
	Name() string
	Checkout(ctx context.Context, req CheckoutRequest) (Checkout, error)
}

// EventKind is what a provider event means for an order.
type EventKind string

const (
	EventPaid           EventKind = "paid"            // money received: grant the licences
	EventPending        EventKind = "pending"         // completed but not yet paid (async methods)
	EventFailed         EventKind = "failed"          // the payment failed
	EventExpired        EventKind = "expired"         // the checkout expired unpaid
	EventRefunded       EventKind = "refunded"        // (part of) the payment returned
	EventDisputed       EventKind = "disputed"        // the buyer's bank contests the payment
	EventAccountUpdated EventKind = "account_updated" // a seller's payout account changed
	EventIgnored        EventKind = "ignored"         // verified, but nothing for us to do
)

// Event is a verified provider event as a payment fact. ID is the provider's event ID, which
// makes processing idempotent: an event is stored and applied once.
type Event struct {
	ID              string
	Kind            EventKind
	Type            string // the provider's own event type, for the record
	OrderID         string
	SessionID       string
	PaymentIntentID string
	ChargeID        string
	AmountFen       int64 // amount paid (paid events) or refunded so far (refund events)
	Currency        string
	AccountID       string // account_updated: the seller's payout account
	PayoutsEnabled  bool
	Created         time.Time
	Payload         []byte // the raw payload as received
}

// WebhookParser verifies a webhook's signature and turns it into an Event; ParseStored reads
// again a payload that was verified when it arrived (events are stored, then applied).
type WebhookParser interface {
	ParseWebhook(payload []byte, signatureHeader string) (Event, error)
	ParseStored(payload []byte) (Event, error)
}

// Payouts moves sellers' shares through a provider's connected accounts.
type Payouts interface {
	// CreateAccount opens a payout account for a seller and returns its ID.
	CreateAccount(ctx context.Context, sellerID, email string) (string, error)
	// OnboardingLink returns where the seller completes its account.
	OnboardingLink(ctx context.Context, accountID, refreshURL, returnURL string) (string, error)
	// Transfer pays amountFen to an account for an order (idempotent per key) and returns its ID.
	Transfer(ctx context.Context, accountID string, amountFen int64, currency, orderID, idempotencyKey string) (string, error)
	// ReverseTransfer takes back (part of) a transfer after a refund.
	ReverseTransfer(ctx context.Context, transferID string, amountFen int64, idempotencyKey string) (string, error)
}

// Refunds returns payments.
type Refunds interface {
	Refund(ctx context.Context, paymentIntentID string, amountFen int64, idempotencyKey string) (string, error)
}

// Provider errors, neutral so that callers map them without knowing the provider.
var (
	ErrBadSignature = errors.New("billing: webhook signature does not verify")
	ErrBadPayload   = errors.New("billing: webhook payload is malformed")
	ErrUnavailable  = errors.New("billing: payment provider unavailable")
	ErrRejected     = errors.New("billing: payment provider rejected the request")
)
