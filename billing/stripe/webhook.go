package stripe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"ziyuan/billing"
)

// ParseWebhook verifies a webhook's Stripe-Signature header against the endpoint's signing
// secret and maps the event to a billing.Event.
//
// Errors: a missing, unparsable or wrong signature, or one older than the tolerance (a
// replay), is billing.ErrBadSignature; a correctly signed body that is not a well-formed
// event is billing.ErrBadPayload. Verified events we do not act on are EventIgnored, not
// errors, so that the endpoint acknowledges them and Stripe stops resending.
func (p *Provider) ParseWebhook(payload []byte, signatureHeader string) (billing.Event, error) {
	se, err := webhook.ConstructEventWithOptions(payload, signatureHeader, p.webhookSecret, webhook.ConstructEventOptions{
		Tolerance: p.webhookTolerance,
		// stripe-go v76 pins API version 2023-10-16 and by default refuses events rendered in
		// any other version. The account's webhook endpoint may well use a newer one (Stripe
		// renders events in the endpoint's version, and new endpoints get the latest), and
		// refusing would make Stripe retry every event for days. We accept the mismatch on
		// purpose: we do not decode data.object into stripe-go's 2023-10-16 structs but into
		// the small structs below, reading only fields that have kept their names and shapes
		// across versions (ids, client_reference_id, metadata, payment_status, amounts,
		// currency, payment_intent/charge as ID or expanded object, payouts_enabled).
		IgnoreAPIVersionMismatch: true,
	})
	if err != nil {
		switch {
		case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader),
			errors.Is(err, webhook.ErrNoValidSignature):
			return billing.Event{}, fmt.Errorf("stripe webhook: %w: %v", billing.ErrBadSignature, err)
		case errors.Is(err, webhook.ErrTooOld):
			return billing.Event{}, fmt.Errorf("stripe webhook: %w: signed more than %v ago (a replay?)", billing.ErrBadSignature, p.webhookTolerance)
		default:
			// The signature verified; only decoding can fail now.
			return billing.Event{}, fmt.Errorf("stripe webhook: %w: %v", billing.ErrBadPayload, err)
		}
	}
	return decodeEvent(se, payload)
}

// ParseStored reads again an event that ParseWebhook verified when it arrived: events are
// stored first and applied from the stored copy, which carries no signature of its own.
func (p *Provider) ParseStored(payload []byte) (billing.Event, error) {
	var se stripego.Event
	if err := json.Unmarshal(payload, &se); err != nil {
		return billing.Event{}, fmt.Errorf("stripe webhook: %w: %v", billing.ErrBadPayload, err)
	}
	return decodeEvent(se, payload)
}

// decodeEvent turns a Stripe event into a payment fact.
func decodeEvent(se stripego.Event, payload []byte) (billing.Event, error) {
	if se.ID == "" || se.Type == "" || se.Created <= 0 {
		return billing.Event{}, fmt.Errorf("stripe webhook: %w: event without id, type or created", billing.ErrBadPayload)
	}
	ev := billing.Event{
		ID:      se.ID,
		Kind:    billing.EventIgnored,
		Type:    string(se.Type),
		Created: time.Unix(se.Created, 0).UTC(),
		// The caller stores the payload as evidence; it must not change under it if the
		// caller's buffer is reused.
		Payload: bytes.Clone(payload),
	}
	var raw json.RawMessage
	if se.Data != nil {
		raw = se.Data.Raw
	}
	switch se.Type {
	case "checkout.session.completed", "checkout.session.async_payment_succeeded",
		"checkout.session.async_payment_failed", "checkout.session.expired":
		var s checkoutSession
		if err := decodeObject(raw, "checkout.session", &s); err != nil {
			return billing.Event{}, err
		}
		ev.OrderID = s.ClientReferenceID
		if ev.OrderID == "" {
			ev.OrderID = s.Metadata["order_id"]
		}
		ev.SessionID, ev.PaymentIntentID = s.ID, s.PaymentIntent.ID
		ev.AmountFen, ev.Currency = s.AmountTotal, strings.ToUpper(s.Currency)
		switch {
		case ev.OrderID == "":
			// Not a session this adapter created (a payment link, the dashboard): every one
			// of ours carries the order ID. Acknowledge it and leave it alone.
		case se.Type == "checkout.session.completed" && s.PaymentStatus == "paid":
			ev.Kind = billing.EventPaid
		case se.Type == "checkout.session.completed":
			// Completed with a delayed method (bank transfer and the like): the money has not
			// arrived; async_payment_succeeded or _failed will follow.
			ev.Kind = billing.EventPending
		case se.Type == "checkout.session.async_payment_succeeded":
			ev.Kind = billing.EventPaid
		case se.Type == "checkout.session.async_payment_failed":
			ev.Kind = billing.EventFailed
		default:
			ev.Kind = billing.EventExpired
		}
	case "charge.refunded":
		var c charge
		if err := decodeObject(raw, "charge", &c); err != nil {
			return billing.Event{}, err
		}
		ev.Kind = billing.EventRefunded
		// Checkout puts the order ID on the payment intent; whether a charge shows it in its
		// own metadata is not something to rely on, so callers that find no order ID here map
		// the payment intent (recorded from checkout.session.completed) to the order.
		ev.OrderID = c.Metadata["order_id"]
		ev.ChargeID, ev.PaymentIntentID = c.ID, c.PaymentIntent.ID
		// amount_refunded is cumulative: a second partial refund reports the total so far,
		// which makes applying events idempotent and order-independent.
		ev.AmountFen, ev.Currency = c.AmountRefunded, strings.ToUpper(c.Currency)
	case "charge.dispute.created":
		var d dispute
		if err := decodeObject(raw, "dispute", &d); err != nil {
			return billing.Event{}, err
		}
		ev.Kind = billing.EventDisputed
		ev.OrderID = d.Metadata["order_id"]
		ev.ChargeID, ev.PaymentIntentID = d.Charge.ID, d.PaymentIntent.ID
		ev.AmountFen, ev.Currency = d.Amount, strings.ToUpper(d.Currency)
	case "account.updated":
		var a account
		if err := decodeObject(raw, "account", &a); err != nil {
			return billing.Event{}, err
		}
		ev.Kind = billing.EventAccountUpdated
		ev.AccountID, ev.PayoutsEnabled = a.ID, a.PayoutsEnabled
	}
	return ev, nil
}

// The parts of Stripe objects the webhook reads. Deliberately not stripe-go's structs: see
// the API-version comment in ParseWebhook.
type (
	checkoutSession struct {
		ID                string            `json:"id"`
		ClientReferenceID string            `json:"client_reference_id"`
		Metadata          map[string]string `json:"metadata"`
		PaymentStatus     string            `json:"payment_status"`
		AmountTotal       int64             `json:"amount_total"`
		Currency          string            `json:"currency"`
		PaymentIntent     ref               `json:"payment_intent"`
	}
	charge struct {
		ID             string            `json:"id"`
		Metadata       map[string]string `json:"metadata"`
		AmountRefunded int64             `json:"amount_refunded"`
		Currency       string            `json:"currency"`
		PaymentIntent  ref               `json:"payment_intent"`
	}
	dispute struct {
		ID            string            `json:"id"`
		Metadata      map[string]string `json:"metadata"`
		Amount        int64             `json:"amount"`
		Currency      string            `json:"currency"`
		Charge        ref               `json:"charge"`
		PaymentIntent ref               `json:"payment_intent"`
	}
	account struct {
		ID             string `json:"id"`
		PayoutsEnabled bool   `json:"payouts_enabled"`
	}
)

// decodeObject decodes data.object into v after checking that it is an object of the
// expected kind with an ID: a signed event whose object is something else is malformed.
func decodeObject(raw json.RawMessage, object string, v any) error {
	var head struct {
		ID     string `json:"id"`
		Object string `json:"object"`
	}
	if len(raw) == 0 {
		return fmt.Errorf("stripe webhook: %w: event without data.object", billing.ErrBadPayload)
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return fmt.Errorf("stripe webhook: %w: data.object: %v", billing.ErrBadPayload, err)
	}
	if head.Object != object || head.ID == "" {
		return fmt.Errorf("stripe webhook: %w: data.object is %q with id %q, want a %s", billing.ErrBadPayload, head.Object, head.ID, object)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("stripe webhook: %w: %s: %v", billing.ErrBadPayload, object, err)
	}
	return nil
}

// ref is an expandable reference: Stripe sends either the ID or, when expanded, the object.
type ref struct{ ID string }

func (r *ref) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		r.ID = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		return json.Unmarshal(b, &r.ID)
	default:
		var o struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		r.ID = o.ID
		return nil
	}
}
